import { CopilotError } from "./copilot-errors";
import { Problem } from "./problem";

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: Problem } },
});

/** The error responses an authenticated epilot operation can give, for the OpenAPI document. */
export const problemResponses = {
  401: problem("Missing or invalid credentials"),
  403: problem("The credentials lack the scope this operation needs"),
  500: problem("The gateway failed or is misconfigured"),
  503: problem("The identity provider's keys (JWKS) could not be fetched; retry after Retry-After seconds"),
};

/** Extra error responses of an operation that takes a JSON body. */
export const bodyProblemResponses = {
  400: problem("The request is invalid: `errors` names each field and what is wrong"),
  413: problem("The request body is larger than 1 MiB"),
  415: problem("The request body is not JSON"),
};

export const queryProblemResponses = {
  400: problem("The request is invalid: `errors` names each field and what is wrong"),
};

const copilotError = (description: string) => ({
  description,
  content: { "application/json": { schema: CopilotError } },
});

export const copilotErrorResponses = {
  400: copilotError("Validation failed (`COMMON.REQUEST_VALIDATION`)"),
  401: copilotError("Invalid credentials (`AUTH.UNAUTHORIZED`)"),
  403: copilotError("The credentials lack the consent:write scope (`AUTH.UNAUTHORIZED`)"),
  413: copilotError("The request body is larger than 1 MiB"),
  415: copilotError("The request body is not JSON"),
  500: copilotError("The gateway failed or is misconfigured"),
  503: copilotError("The identity provider's keys could not be fetched (`AUTH.UNAUTHORIZED`); retry after Retry-After seconds"),
};

export const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { basicAuth: [] }];
