import type { z } from "@hono/zod-openapi";
import { CopilotError } from "./copilot/errors";
import { Problem } from "./problem";

/** A documented answer: `schema` as `mediaType`. */
const answer =
  (mediaType: string, schema: z.ZodType) =>
  (description: string) => ({ description, content: { [mediaType]: { schema } } });

/** A JSON answer, typed for the handler's `c.json`. */
export const jsonAnswer = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

/** A required JSON request body, typed for the handler's `c.req.valid("json")`. */
export const jsonRequest = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { "application/json": { schema } } } });

/** The refusals an operation can give, each in the format of its surface. */
function refusals(format: (description: string) => ReturnType<ReturnType<typeof answer>>, descriptions: Record<number, string>) {
  return Object.fromEntries(Object.entries(descriptions).map(([status, description]) => [status, format(description)]));
}

/** A failure may come after the ledger committed: only the history tells. */
export const FAILED = "The gateway failed or is misconfigured; a write may have been recorded: read the history before sending it again";

/** README "Rate limits". */
const RATE_LIMITED =
  "Over the organization's API limit (RATE_LIMIT_API) or this client id's authentication failures (RATE_LIMIT_AUTH_FAILURES): nothing was recorded; " +
  "retry after Retry-After seconds (RateLimit-Policy and RateLimit say which limit)";

const AUTHENTICATED = {
  401: "Missing or invalid credentials",
  403: "The credentials lack the scope this operation needs",
  500: FAILED,
  503: "The identity provider's keys (JWKS) could not be fetched, or a store is overloaded (nothing was recorded); retry after Retry-After seconds",
  429: RATE_LIMITED,
};
const INVALID = { 400: "The request is invalid: `errors` names each field and what is wrong" };
/** A write takes a JSON body and an Idempotency-Key (see idempotency.ts). */
const WRITE = {
  400: "The request is invalid: `errors` names each field (or the Idempotency-Key header) and what is wrong",
  409: "A request with this Idempotency-Key is still being processed (`idempotency_key_in_flight`); send it again after Retry-After seconds",
  413: "The request body is larger than 1 MiB",
  415: "The request body is not JSON",
  422: "This Idempotency-Key was used with another request body in the last 24 hours (`idempotency_key_reused`)",
};

const problem = answer("application/problem+json", Problem);

/** The refusals of an authenticated epilot operation that reads (query and path) or writes (a JSON body). */
export const readRefusals = refusals(problem, { ...AUTHENTICATED, ...INVALID });
export const writeRefusals = refusals(problem, { ...AUTHENTICATED, ...WRITE });
/** A read of one thing that may not be there. */
export const lookupRefusals = refusals(problem, { ...AUTHENTICATED, ...INVALID, 404: "No such event in the identifier's history" });

/** Webhook management (no Idempotency-Key: an answer holding a secret is never kept): a JSON write, and an operation on one endpoint. */
export const webhookWriteRefusals = refusals(problem, { ...AUTHENTICATED, ...INVALID, 413: WRITE[413], 415: WRITE[415] });
export const webhookRefusals = refusals(problem, { ...AUTHENTICATED, ...INVALID, 404: "The organization has no webhook endpoint with this id" });

/** The Copilot endpoint's refusals, in its own format. */
export const copilotRefusals = refusals(answer("application/json", CopilotError), {
  ...AUTHENTICATED,
  ...WRITE,
  400: "Validation failed, of the body or the Idempotency-Key header (`COMMON.REQUEST_VALIDATION`)",
  401: "Invalid credentials (`AUTH.UNAUTHORIZED`)",
  403: "The credentials lack the consent:write scope (`AUTH.UNAUTHORIZED`)",
  500: `${FAILED} (\`COMMON.REQUEST_VALIDATION\`)`,
  503: "The identity provider's keys could not be fetched (`AUTH.UNAUTHORIZED`), or a store is overloaded (`COMMON.REQUEST_VALIDATION`, nothing recorded); retry after Retry-After seconds",
  429: `${RATE_LIMITED} (\`COMMON.REQUEST_VALIDATION\`)`,
});

export const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { basicAuth: [] }];
