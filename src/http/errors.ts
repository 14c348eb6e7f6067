import type { Context } from "hono";
import { toApiError } from "./api-error";
import type { AppEnv } from "./app-env";
import { COPILOT_PATH } from "./copilot";
import { COLLECT_PATH } from "./copilot-collect";
import { copilotErrorResponse } from "./copilot-errors";
import { refusalPage } from "./link-page-response";
import { wantsJson } from "./negotiation";
import { problemResponse } from "./problem";

/**
 * The app's one error handler: every failure, from any layer, is answered here in the format of
 * the surface it happened on: Copilot's `{reason, error_message}`, a link's page (or a problem for
 * a client that prefers JSON), or RFC 9457 problem details.
 */
export function handleError(error: unknown, c: Context<AppEnv>): Response {
  const refusal = toApiError(error, c);
  if (c.req.path === COPILOT_PATH || c.req.path === COLLECT_PATH) return copilotErrorResponse(refusal);
  const page = wantsJson(c) ? undefined : refusalPage(c, error, refusal);
  return page ?? problemResponse(refusal, c);
}
