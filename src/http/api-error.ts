import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Context } from "hono";
import { ConfigError } from "../config";
import { errorFields, log } from "../log";

/** Where a bad value was found: the request body, the query string or a path parameter. */
export type FieldLocation = "body" | "query" | "path";

/**
 * One reason a request was refused. `code` is stable for machines; `message` is for people.
 * `required` and `null` are told apart because Copilot's error format reports both as "may not be null".
 */
export interface FieldError {
  location: FieldLocation;
  /** Dotted path inside the location, e.g. `meta.source_id`; empty for the whole body. */
  path: string;
  code: string;
  message: string;
  /** For `invalid_type`: the JSON type that was expected. */
  expected?: string;
}

export type ErrorKind =
  | "unauthorized"
  | "forbidden"
  | "validation"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "unsupported_media_type"
  | "misconfigured"
  | "internal"
  | "invalid_link"
  | "expired_link"
  | "withdrawn"
  | "unavailable";

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  unauthorized: 401,
  forbidden: 403,
  validation: 400,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  misconfigured: 500,
  internal: 500,
  invalid_link: 400,
  expired_link: 410,
  withdrawn: 409,
  unavailable: 503,
};

/**
 * A refusal independent of the API surface that reports it: each surface (epilot problem+json,
 * Copilot's `{reason, error_message}`) renders it in its own format.
 */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly kind: ErrorKind,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    /** Extra response headers, e.g. `WWW-Authenticate` or `Allow`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.status = STATUS[kind];
  }
}

/** Any thrown value as an ApiError: known refusals as they are, anything else as a logged 500. */
export function asApiError(error: unknown, c: Context): ApiError {
  if (error instanceof ApiError) return error;
  const request_id = c.get("requestId");
  if (error instanceof ConfigError) {
    log("error", "configuration error", { request_id, setting: error.setting, problem: error.message });
    return new ApiError("misconfigured", `The gateway is misconfigured (${error.setting}); ask its operator.`);
  }
  // Hono's JSON validator throws a 400 HTTPException for a body that does not parse.
  if (error instanceof HTTPException && error.status === 400) {
    return new ApiError("validation", "The request body is not valid JSON.", [
      { location: "body", path: "", code: "malformed_json", message: "is not valid JSON" },
    ]);
  }
  // The route pattern, not the path: a path may carry an identifier.
  log("error", "unhandled error", { request_id, method: c.req.method, route: c.req.routePath, ...errorFields(error) });
  return new ApiError("internal", "Something went wrong on our side; the request was not completed.");
}
