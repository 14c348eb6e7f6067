import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { asApiError, type ApiError, type ErrorKind } from "./api-error";

const TITLES: Record<ErrorKind, string> = {
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  validation: "Invalid request",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  payload_too_large: "Payload too large",
  unsupported_media_type: "Unsupported media type",
  misconfigured: "Gateway misconfigured",
  internal: "Internal error",
  invalid_link: "Invalid link",
  expired_link: "Link expired",
  withdrawn: "Consent withdrawn",
  unavailable: "Service unavailable",
};

export const problemType = (kind: ErrorKind) => `urn:consent-gateway:problem:${kind}`;

/** RFC 9457 problem details, as this gateway answers them (the OpenAPI schema of every error). */
export const Problem = z
  .object({
    type: z.string().openapi({ example: problemType("validation") }),
    title: z.string().openapi({ example: TITLES.validation }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().openapi({ example: "The request body is invalid." }),
    errors: z
      .array(
        z.object({
          location: z.enum(["body", "query", "path"]),
          path: z.string().openapi({ example: "identifier" }),
          code: z.string().openapi({ example: "required" }),
          message: z.string().openapi({ example: "is required" }),
          expected: z.string().optional(),
        }),
      )
      .optional(),
  })
  .openapi("Problem");

export function problemBody(error: ApiError): z.infer<typeof Problem> {
  return {
    type: problemType(error.kind),
    title: TITLES[error.kind],
    status: error.status,
    detail: error.detail,
    ...(error.errors.length ? { errors: error.errors } : {}),
  };
}

/** Renders any error as `application/problem+json`. */
export function problemResponse(error: unknown, c: Context): Response {
  const apiError = asApiError(error);
  return new Response(JSON.stringify(problemBody(apiError)), {
    status: apiError.status,
    headers: { ...apiError.headers, "Content-Type": "application/problem+json" },
  });
}
