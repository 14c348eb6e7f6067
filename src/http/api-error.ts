import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { KeysUnavailable, MissingScope, Unauthenticated } from "../auth/errors";
import { ConfigError } from "../config";
import { ConsentWithdrawn, EventNotFound, FieldRefused, ImportInterrupted, LinkRefused, NoHistory } from "../consent/errors";
import { errorFields, log } from "../log";

/** Where a bad value was found: the request body, the query string, a path parameter or a header. */
export type FieldLocation = "body" | "query" | "path" | "header";

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

/** Every kind of refusal: its status and its title (the problem document's), in one table. */
export const ERROR_KINDS = {
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  validation: { status: 400, title: "Invalid request" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  misconfigured: { status: 500, title: "Gateway misconfigured" },
  internal: { status: 500, title: "Internal error" },
  invalid_link: { status: 400, title: "Invalid link" },
  expired_link: { status: 410, title: "Link expired" },
  withdrawn: { status: 409, title: "Consent withdrawn" },
  unavailable: { status: 503, title: "Service unavailable" },
  overloaded: { status: 503, title: "Service overloaded" },
  idempotency_key_in_flight: { status: 409, title: "Idempotency key in flight" },
  idempotency_key_reused: { status: 422, title: "Idempotency key reused" },
  idempotency_key_erased: { status: 410, title: "Idempotent answer erased" },
  rate_limited: { status: 429, title: "Too many requests" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;
export type ErrorKind = keyof typeof ERROR_KINDS;

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
    this.status = ERROR_KINDS[kind].status;
  }
}

/** A request body over `maxBytes`. */
export class PayloadTooLarge extends ApiError {
  constructor(maxBytes: number) {
    super("payload_too_large", `The request body must be at most ${maxBytes} bytes.`);
  }
}

/**
 * A Durable Object or D1 that refused the request because it is overloaded: the request did not
 * take effect and may be sent again. (An error that is merely `retryable`, such as a reset, may
 * come after a commit, so it is not one of these: the caller cannot be told nothing was recorded.)
 */
function isOverloaded(error: unknown): boolean {
  // Query builders wrap the store's error: look down the causes.
  for (let e = error; e instanceof Error; e = e.cause) {
    if ((e as { overloaded?: unknown }).overloaded === true || /\boverloaded\b/i.test(e.message)) return true;
  }
  return false;
}

const REALM = 'realm="consent-gateway"';

/** Both schemes, so a client learns what it may use; RFC 6750's error code when a token was refused. */
const challenge = (bearerError?: string) =>
  `Bearer ${REALM}${bearerError ? `, error="${bearerError}"` : ""}, Basic ${REALM}, charset="UTF-8"`;

const LINK_REFUSALS = {
  invalid: ["invalid_link", "The link is malformed or was altered."],
  expired: ["expired_link", "The link has expired."],
  unknown_key: ["expired_link", "The link was signed with a key that has since been retired."],
} as const;

/**
 * Any thrown value as an ApiError: the one place where domain, auth and settings failures become
 * HTTP refusals. Anything unknown is a logged 500.
 */
export function toApiError(error: unknown, c: Context): ApiError {
  if (error instanceof ApiError) return error;
  const request_id = c.get("requestId");
  if (error instanceof Unauthenticated) return new ApiError("unauthorized", error.message, [], { "WWW-Authenticate": challenge(error.bearerError) });
  if (error instanceof MissingScope) return new ApiError("forbidden", error.message);
  if (error instanceof KeysUnavailable) {
    log(c.env, "warn", "JWKS unavailable", { request_id, problem: error.message });
    return new ApiError("unavailable", "The identity provider's keys could not be fetched; try again shortly.", [], { "Retry-After": "5" });
  }
  if (error instanceof FieldRefused) {
    return new ApiError("validation", "The request body is invalid.", [{ location: "body", path: error.field, code: error.code, message: error.message }]);
  }
  if (error instanceof LinkRefused) {
    const [kind, detail] = LINK_REFUSALS[error.problem];
    return new ApiError(kind, detail);
  }
  if (error instanceof EventNotFound) return new ApiError("not_found", `The identifier's history holds no event ${error.seq}.`);
  if (error instanceof NoHistory) return new ApiError("not_found", "The identifier has no history in the organization, so there are no preferences to manage.");
  if (error instanceof ConsentWithdrawn) return new ApiError("withdrawn", `The person opted out of ${error.topic} after this link was sent.`);
  if (error instanceof ImportInterrupted) {
    log(c.env, "warn", "an import was interrupted; asked the caller to send it again", { request_id, failed: error.failed, identifiers: error.identifiers, ...errorFields(error.cause) });
    return new ApiError(
      "unavailable",
      `The events of ${error.failed} of the request's ${error.identifiers} identifiers could not be recorded (the others were). Send the same request again: what was stored is then answered as duplicate.`,
      [],
      { "Retry-After": "1" },
    );
  }
  if (isOverloaded(error)) {
    log(c.env, "warn", "a store is overloaded; asked the caller to retry", { request_id, ...errorFields(error) });
    return new ApiError("overloaded", "The gateway is busy for a moment; nothing was recorded. Try again shortly.", [], { "Retry-After": "1" });
  }
  // Hono's own refusals of a request it could not read (e.g. a form body that does not parse).
  if (error instanceof HTTPException && error.status === 400) return new ApiError("validation", error.message || "The request could not be read.");
  if (error instanceof HTTPException && error.status === 415) return new ApiError("unsupported_media_type", "The request body is not of a media type this operation takes.");
  if (error instanceof ConfigError) {
    log(c.env, "error", "configuration error", { request_id, setting: error.setting, problem: error.message });
    return new ApiError("misconfigured", `The gateway is misconfigured (${error.setting}); ask its operator.`);
  }
  // The route pattern, not the path: a path may carry an identifier.
  log(c.env, "error", "unhandled error", { request_id, method: c.req.method, route: c.req.routePath, ...errorFields(error) });
  // Unknown: a write may have committed before it failed, so the caller is not told it did not.
  return new ApiError("internal", "Something went wrong on our side; a write may have been recorded: read the history before sending it again.");
}
