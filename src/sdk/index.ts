/** The consent gateway's SDK: `import { getClient, authorize } from "consent-gateway/sdk"`. */
export {
  ConsentApiError,
  DEFAULT_BASE_URL,
  authorize,
  getClient,
  type ApiResponse,
  type CallOptions,
  type ClientOptions,
  type ConsentClient,
  type CopilotError,
  type OperationBody,
  type OperationData,
  type OperationId,
  type OperationMethod,
  type OperationParams,
  type ProblemDetails,
} from "./client";
export { operations } from "./operations";
export { operationTable, type OperationInfo, type OperationTable } from "./operation-table";
export { authorizationHeader, basicAuth, ConsentUsageError, sendOperation, type SendOptions, type SentResponse, type TokenSource } from "./request";
export type { components, operations as Operations, paths } from "./schema";
