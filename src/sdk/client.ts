/**
 * The typed client: one method per operation of the generated operation table, named by its
 * operationId and typed from the generated `schema.d.ts`, on top of the openapi-fetch client of
 * fetch-client.ts (so with its retries and Idempotency-Keys), e.g.
 *
 *   const client = getClient({ baseUrl: "https://consent.example.com" });
 *   authorize(client, () => getToken());
 *   const { data } = await client.publishConsentEvent(null, { type: "OPT_IN", topic: "EMAIL_MARKETING", identifier: "a@b.c" });
 *   const { data: page } = await client.listConsentEvents({ identifier: "a@b.c", limit: 10 });
 */
import { ConsentApiError } from "./errors.js";
import { createFetchClient, type FetchClientOptions } from "./fetch-client.js";
import { operations as operationTable } from "./generated/operations.js";
import type { operations as Operations } from "./generated/schema.js";
import type { OperationInfo } from "./operation-table.js";
import { callOperation, type ParamValue, type TokenSource } from "./request.js";

export { DEFAULT_BASE_URL } from "./fetch-client.js";

export type OperationId = keyof Operations & keyof typeof operationTable;

// ----- types derived from the generated operations -----

type Defined<T> = Exclude<T, undefined>;
type Section<O, L extends string> = O extends { parameters: infer P } ? (L extends keyof P ? Defined<P[L]> : never) : never;
type AsObject<T> = [T] extends [never] ? {} : T extends object ? T : {};
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The parameters of an operation, path, query and header alike, in one object. */
export type OperationParams<K extends OperationId> = Simplify<
  AsObject<Section<Operations[K], "path">> & AsObject<Section<Operations[K], "query">> & AsObject<Section<Operations[K], "header">>
>;

type ContentOf<T> = T extends { content: infer C } ? C[keyof C] : never;
/** The request body of an operation (never when it takes none). */
export type OperationBody<K extends OperationId> = Operations[K] extends { requestBody?: infer B } ? ContentOf<Defined<B>> : never;
type BodyRequired<K extends OperationId> = Operations[K] extends { requestBody: { content: unknown } } ? true : false;

type SuccessStatus = 200 | 201 | 202 | 203 | 204 | 205 | 206 | "2XX";
type ResponsesOf<K extends OperationId> = Operations[K] extends { responses: infer R } ? R : never;
/** What a 2xx answer of the operation carries (JSON parsed, text/html as a string). */
export type OperationData<K extends OperationId> = {
  [S in keyof ResponsesOf<K>]: S extends SuccessStatus ? ([ContentOf<ResponsesOf<K>[S]>] extends [never] ? null : ContentOf<ResponsesOf<K>[S]>) : never;
}[keyof ResponsesOf<K>];

export interface ApiResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

export interface CallOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

type ParamsArg<K extends OperationId> = {} extends OperationParams<K> ? OperationParams<K> | null | undefined : OperationParams<K>;
type MethodArgs<K extends OperationId> = [OperationBody<K>] extends [never]
  ? {} extends OperationParams<K>
    ? [params?: ParamsArg<K>, body?: null, options?: CallOptions]
    : [params: ParamsArg<K>, body?: null, options?: CallOptions]
  : BodyRequired<K> extends true
    ? [params: ParamsArg<K>, body: OperationBody<K>, options?: CallOptions]
    : [params?: ParamsArg<K>, body?: OperationBody<K> | null, options?: CallOptions];

export type OperationMethod<K extends OperationId> = (...args: MethodArgs<K>) => Promise<ApiResponse<OperationData<K>>>;

export type ConsentClient = { readonly [K in OperationId]: OperationMethod<K> };

// ----- the client -----

export interface ClientOptions extends Omit<FetchClientOptions, "headers"> {
  /** Headers sent with every call. */
  headers?: Record<string, string>;
}

const tokens = new WeakMap<object, { token?: TokenSource }>();

export function getClient(options: ClientOptions = {}): ConsentClient {
  const { headers: common, ...clientOptions } = options;
  const credentials: { token?: TokenSource } = {};
  const fetchClient = createFetchClient(clientOptions);
  const client: Record<string, unknown> = {};
  for (const [operationId, info] of Object.entries(operationTable) as [OperationId, OperationInfo][]) {
    client[operationId] = async (params?: Record<string, ParamValue> | null, body?: unknown, call: CallOptions = {}) => {
      const answer = await callOperation(fetchClient, operationId, info, {
        params,
        body,
        headers: { ...common, ...call.headers },
        authorization: credentials.token,
        signal: call.signal,
      });
      if (answer.status < 200 || answer.status > 299) throw new ConsentApiError(operationId, answer.status, answer.headers, answer.data);
      return { data: answer.data, status: answer.status, headers: answer.headers };
    };
  }
  tokens.set(client, credentials);
  return client as ConsentClient;
}

/**
 * Sets the credentials of `client`: a Bearer token (a JWT), `basicAuth(id, secret)`, or a function
 * answering either (called before every call, so it may refresh tokens).
 */
export function authorize(client: ConsentClient, token: TokenSource): ConsentClient {
  const credentials = tokens.get(client);
  if (!credentials) throw new TypeError("authorize: not a client made by getClient");
  credentials.token = token;
  return client;
}
