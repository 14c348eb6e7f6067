import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError, toApiError, type FieldError } from "../api-error";
import type { AppEnv } from "../app-env";

/** Copilot.cx's error body: `reason` is one of two fixed strings. */
export const CopilotError = z
  .object({
    reason: z.enum(["COMMON.REQUEST_VALIDATION", "AUTH.UNAUTHORIZED"]),
    error_message: z.string(),
  })
  .openapi("CopilotError", {
    example: { reason: "COMMON.REQUEST_VALIDATION", error_message: "1 validation error: [ may not be null --> consent_value ]" },
  });

/** One failing field in Copilot's (Java Bean Validation) wording: `may not be null --> consent_value`. */
function describe(error: FieldError): string {
  const message =
    error.code === "required" || error.code === "null"
      ? "may not be null"
      : error.code === "invalid_type"
        ? `must be a ${error.expected}`
        : error.message;
  return `${message} --> ${error.path || "body"}`;
}

/** Renders a refusal in Copilot's shape: `{reason, error_message}`. */
function copilotErrorResponse(apiError: ApiError): Response {
  const isAuth = apiError.kind === "unauthorized" || apiError.kind === "forbidden" || apiError.kind === "unavailable";
  const count = apiError.errors.length;
  const body: z.infer<typeof CopilotError> = {
    reason: isAuth ? "AUTH.UNAUTHORIZED" : "COMMON.REQUEST_VALIDATION",
    error_message:
      count > 0
        ? `${count} validation error${count === 1 ? "" : "s"}: [ ${apiError.errors.map(describe).join(", ")} ]`
        : apiError.detail,
  };
  return Response.json(body, { status: apiError.status, headers: apiError.headers });
}

/** The Copilot surface's error handler (Hono's per-app onError): every failure in its own format. */
export const answerInCopilotFormat = (error: unknown, c: Context<AppEnv>): Response => copilotErrorResponse(toApiError(error, c));

/** The answer to any other method on a Copilot path (its one method is POST), in Copilot's format through the surface's onError. */
export const onlyPost = (c: Context<AppEnv>): never => {
  throw new ApiError("method_not_allowed", `${c.req.method} is not supported here; use POST.`, [], { Allow: "POST" });
};
