import type { Context } from "hono";
import { toApiError } from "./api-error";
import type { AppEnv } from "./app-env";
import { COPILOT_PATH } from "./copilot";
import { COLLECT_PATH } from "./copilot-collect";
import { copilotErrorResponse } from "./copilot-errors";
import { problemResponse } from "./problem";

/**
 * The app's error handler, for what no surface answered itself (the meta routes, 404 and 405):
 * Copilot's `{reason, error_message}` on its path, RFC 9457 problem details elsewhere.
 */
export function handleError(error: unknown, c: Context<AppEnv>): Response {
  const refusal = toApiError(error, c);
  if (c.req.path === COPILOT_PATH || c.req.path === COLLECT_PATH) return copilotErrorResponse(refusal);
  return problemResponse(refusal, c);
}
