import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ERROR_KINDS, toApiError, type ApiError, type ErrorKind } from "./api-error";
import type { AppEnv } from "./app-env";
import { FieldErrorSchema } from "../consent/schemas";

export const problemType = (kind: ErrorKind) => `urn:consent-gateway:problem:${kind}`;

/** RFC 9457 problem details, as this gateway answers them (the OpenAPI schema of every error). */
export const Problem = z
  .object({
    type: z.string().openapi({ example: problemType("validation") }),
    title: z.string().openapi({ example: ERROR_KINDS.validation.title }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().openapi({ example: "The request body is invalid." }),
    request_id: z.string().openapi({ description: "The request's X-Request-Id: quote it when reporting a problem", example: "3f2c5e9a-8d0b-4f7e-9a51-6c2d1e0b7a44" }),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .openapi("Problem");

function problemBody(error: ApiError, requestId: string): z.infer<typeof Problem> {
  return {
    type: problemType(error.kind),
    title: ERROR_KINDS[error.kind].title,
    status: error.status,
    detail: error.detail,
    request_id: requestId,
    ...(error.errors.length ? { errors: error.errors } : {}),
  };
}

/** Renders a refusal as `application/problem+json`. */
export function problemResponse(error: ApiError, c: Context): Response {
  return new Response(JSON.stringify(problemBody(error, c.get("requestId"))), {
    status: error.status,
    headers: { ...error.headers, "Content-Type": "application/problem+json" },
  });
}

/** A surface's error handler that answers every failure as problem details (Hono's per-app onError). */
export const answerAsProblem = (error: unknown, c: Context<AppEnv>): Response => problemResponse(toApiError(error, c), c);
