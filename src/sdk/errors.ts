/** What a call throws: a refusal by the gateway (ConsentApiError), or a call that does not fit its operation (ConsentUsageError). */
import type { components } from "./generated/schema.js";

export type ProblemDetails = components["schemas"]["Problem"];
export type CopilotError = components["schemas"]["CopilotError"];

/**
 * A non-2xx answer (after retries). `body` is the parsed answer; on the `/v1` API it is RFC 9457
 * problem details, whose fields are also the error's own (`type`, `title`, `detail`, `errors`,
 * `requestId`); the Copilot endpoint answers `{reason, error_message}` (`copilotError`).
 */
export class ConsentApiError extends Error {
  override name = "ConsentApiError";
  readonly operationId: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  /** The problem's type URI, e.g. `urn:consent-gateway:problem:validation`. */
  readonly type?: string;
  readonly title?: string;
  readonly detail?: string;
  /** One entry per invalid field: where, which, why. */
  readonly errors?: ProblemDetails["errors"];
  /** The request's X-Request-Id (quote it when reporting a problem). */
  readonly requestId?: string;

  constructor(operationId: string, status: number, headers: Headers, body: unknown) {
    super(describe(operationId, status, body));
    this.operationId = operationId;
    this.status = status;
    this.headers = headers;
    this.body = body;
    const problem = this.problem;
    if (problem) {
      this.type = problem.type;
      this.title = problem.title;
      this.detail = problem.detail;
      this.errors = problem.errors;
      this.requestId = problem.request_id;
    }
  }

  /** The problem details, when the answer is `application/problem+json`-shaped. */
  get problem(): ProblemDetails | undefined {
    const body = this.body as Partial<ProblemDetails> | null;
    return body && typeof body === "object" && typeof body.title === "string" && typeof body.status === "number" ? (body as ProblemDetails) : undefined;
  }

  /** The Copilot error, when the answer is `{reason, error_message}`. */
  get copilotError(): CopilotError | undefined {
    const body = this.body as Partial<CopilotError> | null;
    return body && typeof body === "object" && typeof body.reason === "string" ? (body as CopilotError) : undefined;
  }
}

function describe(operationId: string, status: number, body: unknown): string {
  const b = (body ?? {}) as Record<string, unknown>;
  const detail =
    typeof b.title === "string" ? `${b.title}${typeof b.detail === "string" ? `: ${b.detail}` : ""}` : typeof b.reason === "string" ? `${b.reason}: ${b.error_message ?? ""}` : "";
  return `${operationId} answered ${status}${detail ? ` (${detail})` : ""}`;
}

/** Thrown before anything is sent when the parameters or the body do not fit the operation. */
export class ConsentUsageError extends TypeError {
  override name = "ConsentUsageError";
}
