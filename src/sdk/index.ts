/** The consent gateway's SDK: `import { getClient, authorize } from "consent-gateway/sdk"`. */
export {
  DEFAULT_BASE_URL,
  authorize,
  getClient,
  type ApiResponse,
  type CallOptions,
  type ClientOptions,
  type ConsentClient,
  type OperationBody,
  type OperationData,
  type OperationId,
  type OperationMethod,
  type OperationParams,
} from "./client.js";
export { ConsentApiError, ConsentUsageError, type CopilotError, type ProblemDetails } from "./errors.js";
export { createFetchClient, type FetchClientOptions } from "./fetch-client.js";
export { operations } from "./generated/operations.js";
export type { components, operations as Operations, paths } from "./generated/schema.js";
export { operationTable, type OperationInfo, type OperationTable } from "./operation-table.js";
export { authorizationHeader, basicAuth, sendOperation, type SendOptions, type SentResponse, type TokenSource } from "./request.js";
export type { RetryOptions } from "./retry.js";
export { verifyWebhook, WebhookVerificationError } from "./webhooks.js";
