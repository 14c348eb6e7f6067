/**
 * One generic way to call any operation of an operation table: the table says where each
 * parameter goes and what the body is; openapi-fetch (fetch-client.ts) builds and sends the request,
 * with its retries and Idempotency-Key; the answer is parsed by its Content-Type. fetch only, so it
 * runs in Node 20+, browsers and Workers. The SDK's methods and the CLI are both built on it.
 */
import type { Client } from "openapi-fetch";
import { ConsentUsageError } from "./errors.js";
import { createFetchClient, type FetchClientOptions } from "./fetch-client.js";
import type { paths } from "./generated/schema.js";
import type { OperationInfo } from "./operation-table.js";

export { ConsentUsageError };

export type ParamValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

/** A token (a JWT), `basicAuth(id, secret)`, or a function answering either (called per call, so it may refresh tokens). */
export type TokenSource = string | (() => string | Promise<string>);

export interface CallInput {
  params?: Record<string, ParamValue> | null;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as Authorization (see authorizationHeader) to operations that need credentials, unless `headers` has one. */
  authorization?: TokenSource;
  signal?: AbortSignal;
}

export interface SendOptions extends CallInput, Omit<FetchClientOptions, "headers"> {
  baseUrl: string;
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

/** A body as sent: a string as it is (NDJSON, say), anything else as JSON. */
function bodyText(body: unknown): string {
  return typeof body === "string" ? body : JSON.stringify(body);
}

interface PlacedRequest {
  path: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Headers;
  body?: string;
}

/** Sorts the flat parameters into path, query, header and cookie by the table, and serialises the body; or a ConsentUsageError. */
export function placeRequest(operationId: string, info: OperationInfo, input: CallInput): PlacedRequest {
  const params = { ...(input.params ?? {}) };
  const placed: PlacedRequest = { path: {}, query: {}, headers: new Headers(input.headers) };
  for (const parameter of info.parameters) {
    const value = params[parameter.name];
    delete params[parameter.name];
    if (value === undefined || value === null || value === "") {
      if (parameter.required) throw new ConsentUsageError(`${operationId}: the ${parameter.in} parameter "${parameter.name}" is required`);
      continue;
    }
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    if (parameter.in === "path") placed.path[parameter.name] = values.join(",");
    else if (parameter.in === "query") placed.query[parameter.name] = Array.isArray(value) ? values : values[0]!;
    else if (parameter.in === "header") placed.headers.set(parameter.name, values.join(", "));
    else placed.headers.append("Cookie", `${parameter.name}=${encodeURIComponent(values.join(","))}`);
  }
  const unknown = Object.keys(params).filter((name) => params[name] !== undefined);
  if (unknown.length) {
    const known = info.parameters.map((p) => p.name).join(", ") || "none";
    throw new ConsentUsageError(`${operationId}: unknown parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (parameters: ${known})`);
  }
  if (input.body !== undefined && input.body !== null) {
    if (!info.body) throw new ConsentUsageError(`${operationId} takes no request body`);
    placed.body = bodyText(input.body);
    if (!placed.headers.has("Content-Type")) placed.headers.set("Content-Type", info.body.contentType);
  } else if (info.body?.required) {
    throw new ConsentUsageError(`${operationId}: a request body is required`);
  }
  return placed;
}

async function parseBody(response: Response): Promise<unknown> {
  if (response.status === 204 || response.status === 304) return null;
  const mediaType = (response.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  const json = /[/+]json$/.test(mediaType);
  if (!json && !mediaType.startsWith("text/") && mediaType !== "") return response.arrayBuffer();
  const text = await response.text();
  if (text === "" || !json) return text === "" ? null : text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Calls one operation through `client` and answers whatever the server answered (no throwing on HTTP errors). */
export async function callOperation(client: Client<paths>, operationId: string, info: OperationInfo, input: CallInput): Promise<SentResponse> {
  const { path, query, headers, body } = placeRequest(operationId, info, input);
  // Public operations (the links in emails) get no credentials; an Authorization header the caller set wins.
  if (input.authorization !== undefined && !info.public && !headers.has("Authorization")) {
    const token = typeof input.authorization === "function" ? await input.authorization() : input.authorization;
    headers.set("Authorization", authorizationHeader(token));
  }
  // The operation is looked up at run time, so openapi-fetch's per-path typing cannot apply here.
  const { response, error } = await (client as Client<any>).request(info.method.toLowerCase() as Lowercase<OperationInfo["method"]>, info.path, {
    params: { path, query },
    headers,
    body,
    bodySerializer: (text: string) => text,
    // The body is read here, by its Content-Type (an HTML page, an empty 201, JSON), not by openapi-fetch's default JSON.
    parseAs: "stream",
    signal: input.signal,
  });
  // openapi-fetch has read an error's body already (JSON, else text).
  const data = response.ok ? await parseBody(response) : error === undefined || error === "" ? null : error;
  return { status: response.status, statusText: response.statusText, headers: response.headers, data, contentType: response.headers.get("Content-Type") ?? "" };
}

/** Sends one operation call (a client made for it: the CLI) and answers whatever the server answered. */
export function sendOperation(operationId: string, info: OperationInfo, options: SendOptions): Promise<SentResponse> {
  const { onRequest, params, body, headers, authorization, signal, ...clientOptions } = options;
  const sent = body === undefined || body === null ? undefined : bodyText(body);
  const client = createFetchClient(
    clientOptions,
    onRequest && ((request, attempt) => onRequest({ method: request.method, url: request.url, headers: request.headers, body: sent, attempt })),
  );
  return callOperation(client, operationId, info, { params, body, headers, authorization, signal });
}
