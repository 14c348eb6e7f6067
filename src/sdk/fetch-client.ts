/**
 * The typed request layer: an openapi-fetch client for the gateway's paths, which retries
 * (retry.ts) and gives every POST an Idempotency-Key, so that a retried write is recorded once:
 *
 *   const api = createFetchClient({ baseUrl, headers: { Authorization: `Bearer ${jwt}` } });
 *   const { data, error } = await api.GET("/v1/consent/{identifier}", { params: { path: { identifier } } });
 *
 * `getClient` (client.ts) puts one method per operation on top of one of these.
 */
import createClient, { type Client, type HeadersOptions, type Middleware } from "openapi-fetch";
import type { paths } from "./generated/schema.js";
import { retryingFetch, type OnAttempt, type RetryOptions } from "./retry.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8787";

export interface FetchClientOptions extends RetryOptions {
  /** The gateway's origin (default: http://127.0.0.1:8787, `npm run dev`). */
  baseUrl?: string;
  /** A fetch implementation (default: the global fetch). */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every call. */
  headers?: HeadersOptions;
}

/**
 * The key is made once per call, before the retry loop clones the request, so every attempt of one
 * call carries the same key and the gateway answers a retry with the first answer. A key the
 * caller set (a parameter or a header) is kept.
 */
const idempotencyKeys: Middleware = {
  onRequest({ request }) {
    if (request.method === "POST" && !request.headers.has("Idempotency-Key")) request.headers.set("Idempotency-Key", crypto.randomUUID());
  },
};

export function createFetchClient(options: FetchClientOptions = {}, onAttempt?: OnAttempt): Client<paths> {
  // Looked up at each call, so a fetch installed after the client was made (a polyfill) is the one used.
  const fetchImpl = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
    headers: options.headers,
    fetch: retryingFetch(fetchImpl, options, onAttempt),
  });
  client.use(idempotencyKeys);
  return client;
}
