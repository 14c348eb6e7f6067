/** The consent gateway's SDK: `import { getClient, authorize } from "consent-gateway/sdk"`. */
export {
  ConsentApiError,
  DEFAULT_BASE_URL,
  authorizationHeader,
  authorize,
  basicAuth,
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
  type TokenSource,
} from "./client";
export { operations } from "./operations";
export { operationTable, type OperationInfo, type OperationTable } from "./operation-table";
export { ConsentUsageError, sendOperation, type SendOptions, type SentResponse } from "./request";
export type { components, operations as Operations, paths } from "./schema";
