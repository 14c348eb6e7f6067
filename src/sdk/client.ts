/**
 * The typed client: one method per operation of the generated operation table, named by its
 * operationId and typed from the generated `schema.d.ts`, e.g.
 *
 *   const client = getClient({ baseUrl: "https://consent.example.com" });
 *   authorize(client, () => getToken());
 *   const { data } = await client.publishConsentEvent(null, { type: "OPT_IN", topic: "EMAIL_MARKETING", identifier: "a@b.c" });
 *   const { data: page } = await client.listConsentEvents({ identifier: "a@b.c", limit: 10 });
 */
import type { OperationInfo } from "./operation-table";
import { operations as operationTable } from "./operations";
import { sendOperation, type ParamValue, type RetryOptions, type TokenSource } from "./request";
import type { components, operations as Operations } from "./schema";

export type OperationId = keyof Operations & keyof typeof operationTable;
export type ProblemDetails = components["schemas"]["Problem"];
export type CopilotError = components["schemas"]["CopilotError"];

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

// ----- errors -----

/**
 * A non-2xx answer (after retries). `body` is the parsed answer: RFC 9457 problem details on the
 * epilot paths (also in `problem`), `{reason, error_message}` on the Copilot endpoint.
 */
export class ConsentApiError extends Error {
  override name = "ConsentApiError";
  readonly operationId: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;

  constructor(operationId: string, status: number, headers: Headers, body: unknown) {
    super(ConsentApiError.describe(operationId, status, body));
    this.operationId = operationId;
    this.status = status;
    this.headers = headers;
    this.body = body;
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

  private static describe(operationId: string, status: number, body: unknown): string {
    const b = (body ?? {}) as Record<string, unknown>;
    const detail =
      typeof b.title === "string" ? `${b.title}${typeof b.detail === "string" ? `: ${b.detail}` : ""}` : typeof b.reason === "string" ? `${b.reason}: ${b.error_message ?? ""}` : "";
    return `${operationId} answered ${status}${detail ? ` (${detail})` : ""}`;
  }
}

// ----- the client -----

export interface ClientOptions extends RetryOptions {
  /** The gateway's origin (default: http://127.0.0.1:8787, `npm run dev`). */
  baseUrl?: string;
  /** A fetch implementation (default: the global fetch). */
  fetch?: typeof fetch;
  /** Headers sent with every call. */
  headers?: Record<string, string>;
}

interface ClientState extends ClientOptions {
  baseUrl: string;
  token?: TokenSource;
}

export const DEFAULT_BASE_URL = "http://127.0.0.1:8787";

const states = new WeakMap<object, ClientState>();

export function getClient(options: ClientOptions = {}): ConsentClient {
  const state: ClientState = { ...options, baseUrl: options.baseUrl ?? DEFAULT_BASE_URL };
  const client: Record<string, unknown> = {};
  for (const [operationId, info] of Object.entries(operationTable) as [OperationId, OperationInfo][]) {
    client[operationId] = async (params?: Record<string, ParamValue> | null, body?: unknown, call: CallOptions = {}) => {
      const answer = await sendOperation(operationId, info, {
        baseUrl: state.baseUrl,
        fetch: state.fetch,
        retries: state.retries,
        maxRetryDelayMs: state.maxRetryDelayMs,
        params,
        body,
        headers: { ...state.headers, ...call.headers },
        authorization: state.token,
        signal: call.signal,
      });
      if (answer.status < 200 || answer.status > 299) throw new ConsentApiError(operationId, answer.status, answer.headers, answer.data);
      return { data: answer.data, status: answer.status, headers: answer.headers };
    };
  }
  states.set(client, state);
  return client as ConsentClient;
}

/**
 * Sets the credentials of `client`: a Bearer token (a JWT), `basicAuth(id, secret)`, or a function
 * answering either (called before every request, so it may refresh tokens).
 */
export function authorize(client: ConsentClient, token: TokenSource): ConsentClient {
  const state = states.get(client);
  if (!state) throw new TypeError("authorize: not a client made by getClient");
  state.token = token;
  return client;
}
