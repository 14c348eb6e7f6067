/**
 * One generic way to call any operation of an operation table: parameters placed by the table,
 * the body serialised for its media type, retries on 429 and 503 honouring Retry-After, and the
 * answer parsed by its Content-Type. fetch only, so it runs in Node 20+, browsers and Workers.
 * The SDK's methods and the CLI are both built on it.
 */
import type { OperationInfo } from "./operation-table";

export type ParamValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

export interface RetryOptions {
  /** How many times a 429 or 503 is retried (default 3; 0 turns retries off). */
  retries?: number;
  /** The longest wait before a retry, in ms (default 10 000). A longer Retry-After is not waited for: the answer is returned. */
  maxRetryDelayMs?: number;
}

/** A token (a JWT), `basicAuth(id, secret)`, or a function answering either (called per call, so it may refresh tokens). */
export type TokenSource = string | (() => string | Promise<string>);

export interface SendOptions extends RetryOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  params?: Record<string, ParamValue> | null;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as Authorization (see authorizationHeader) to operations that need credentials, unless `headers` has one. */
  authorization?: TokenSource;
  signal?: AbortSignal;
  /** Called before every attempt (e.g. the CLI's --verbose). */
  onRequest?: (request: { method: string; url: string; headers: Headers; body?: string; attempt: number }) => void;
}

export interface SentResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** Parsed JSON for JSON media types, text for text/*, null for an empty body, otherwise an ArrayBuffer. */
  data: unknown;
  contentType: string;
}

const RETRY_STATUSES = new Set([429, 503]);

/** The Authorization header value for a token: Bearer, unless it already names its scheme (`Basic …`, `Bearer …`). */
export function authorizationHeader(token: string): string {
  return /^(bearer|basic)\s+\S/i.test(token) ? token : `Bearer ${token}`;
}

/** `Basic base64(id:secret)` for an API client, to give to `authorize`. */
export function basicAuth(clientId: string, secret: string): string {
  const bytes = new TextEncoder().encode(`${clientId}:${secret}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** Thrown before anything is sent when the parameters do not fit the operation. */
export class ConsentUsageError extends TypeError {
  override name = "ConsentUsageError";
}

/** The URL, headers and body for one call, or a ConsentUsageError. */
export function buildRequest(operationId: string, info: OperationInfo, options: SendOptions): { url: string; init: RequestInit; bodyText?: string } {
  const params = { ...(options.params ?? {}) };
  const headers = new Headers(options.headers);
  const query = new URLSearchParams();
  let path = info.path;
  for (const parameter of info.parameters) {
    const value = params[parameter.name];
    delete params[parameter.name];
    if (value === undefined || value === null || value === "") {
      if (parameter.required) throw new ConsentUsageError(`${operationId}: the ${parameter.in} parameter "${parameter.name}" is required`);
      continue;
    }
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    if (parameter.in === "path") path = path.replace(`{${parameter.name}}`, encodeURIComponent(values.join(",")));
    else if (parameter.in === "query") for (const v of values) query.append(parameter.name, v);
    else if (parameter.in === "header") headers.set(parameter.name, values.join(", "));
    else headers.append("Cookie", `${parameter.name}=${encodeURIComponent(values.join(","))}`);
  }
  const unknown = Object.keys(params).filter((name) => params[name] !== undefined);
  if (unknown.length) {
    const known = info.parameters.map((p) => p.name).join(", ") || "none";
    throw new ConsentUsageError(`${operationId}: unknown parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (parameters: ${known})`);
  }
  let bodyText: string | undefined;
  if (options.body !== undefined && options.body !== null) {
    if (!info.body) throw new ConsentUsageError(`${operationId} takes no request body`);
    bodyText = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", info.body.contentType);
  } else if (info.body?.required) {
    throw new ConsentUsageError(`${operationId}: a request body is required`);
  }
  const search = query.toString();
  const url = `${options.baseUrl.replace(/\/+$/, "")}${path}${search ? `?${search}` : ""}`;
  return { url, init: { method: info.method, headers, body: bodyText, signal: options.signal }, bodyText };
}

/** Milliseconds to wait before retrying, from Retry-After (seconds or an HTTP date), else exponential backoff. */
export function retryDelay(retryAfter: string | null, attempt: number, now = Date.now()): number {
  if (retryAfter !== null) {
    const value = retryAfter.trim();
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return Math.min(250 * 2 ** attempt, 8_000);
}

function sleep(ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

async function parseBody(response: Response): Promise<{ data: unknown; contentType: string }> {
  const contentType = response.headers.get("Content-Type") ?? "";
  if (response.status === 204 || response.status === 304) return { data: null, contentType };
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (/[/+]json$/.test(mediaType) || mediaType.startsWith("text/") || mediaType === "") {
    const text = await response.text();
    if (text === "") return { data: null, contentType };
    if (/[/+]json$/.test(mediaType)) {
      try {
        return { data: JSON.parse(text), contentType };
      } catch {
        return { data: text, contentType };
      }
    }
    return { data: text, contentType };
  }
  return { data: await response.arrayBuffer(), contentType };
}

/** Sends one operation call and answers whatever the server answered (no throwing on HTTP errors). */
export async function sendOperation(operationId: string, info: OperationInfo, options: SendOptions): Promise<SentResponse> {
  const { url, init, bodyText } = buildRequest(operationId, info, options);
  const headers = init.headers as Headers;
  // Public operations (the links in emails) get no credentials; an Authorization header the caller set wins.
  if (options.authorization !== undefined && !info.public && !headers.has("Authorization")) {
    const token = typeof options.authorization === "function" ? await options.authorization() : options.authorization;
    headers.set("Authorization", authorizationHeader(token));
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const retries = Math.max(0, options.retries ?? 3);
  const maxDelay = options.maxRetryDelayMs ?? 10_000;
  for (let attempt = 0; ; attempt++) {
    options.onRequest?.({ method: info.method, url, headers, body: bodyText, attempt });
    const response = await fetchImpl(url, init);
    if (RETRY_STATUSES.has(response.status) && attempt < retries) {
      const delay = retryDelay(response.headers.get("Retry-After"), attempt);
      if (delay <= maxDelay) {
        await response.body?.cancel();
        await sleep(delay, options.signal ?? undefined);
        continue;
      }
    }
    const { data, contentType } = await parseBody(response);
    return { status: response.status, statusText: response.statusText, headers: response.headers, data, contentType };
  }
}
