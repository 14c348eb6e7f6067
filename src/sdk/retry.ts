/**
 * Retries as a fetch wrapper (openapi-fetch takes it as its `fetch`): a 429 or 503, a 409 that says
 * when to come back (an Idempotency-Key whose first request is still running), and a fetch that
 * fails before any answer (the network) are sent again, a bounded number of times. One call's
 * attempts are clones of one Request, so its headers, and its Idempotency-Key, are the same on all.
 */

export interface RetryOptions {
  /** How many times a call is retried after a 429, a 503 or a network failure (default 3; 0 turns retries off). */
  retries?: number;
  /** The longest wait before a retry, in ms (default 10 000). A longer Retry-After is not waited for: the answer is returned. */
  maxRetryDelayMs?: number;
}

/** Called before every attempt, the first being 0 (e.g. the CLI's --verbose). */
export type OnAttempt = (request: Request, attempt: number) => void;

const RETRY_STATUSES = new Set([429, 503]);

/** Milliseconds to wait before retrying, from Retry-After (seconds or an HTTP date), else exponential backoff. */
export function retryDelay(retryAfter: string | null, attempt: number, now = Date.now()): number {
  if (retryAfter !== null) {
    const value = retryAfter.trim();
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return backoff(attempt);
}

/** 250 ms doubling up to 8 s, each wait between half and all of it, so that many clients refused at once do not come back at once. */
function backoff(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 8_000) * (0.5 + Math.random() / 2);
}

function retryable(request: Request, response: Response): boolean {
  if (RETRY_STATUSES.has(response.status)) return true;
  return response.status === 409 && request.headers.has("Idempotency-Key") && response.headers.has("Retry-After");
}

function sleep(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

export function retryingFetch(fetchImpl: (request: Request) => Promise<Response>, options: RetryOptions = {}, onAttempt?: OnAttempt) {
  const retries = Math.max(0, options.retries ?? 3);
  const maxDelay = options.maxRetryDelayMs ?? 10_000;
  return async (request: Request): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries;
      // A body can be read once: every attempt but the last sends a clone.
      const sent = last ? request : request.clone();
      onAttempt?.(sent, attempt);
      let response: Response;
      try {
        response = await fetchImpl(sent);
      } catch (error) {
        if (last || request.signal.aborted) throw error;
        await sleep(backoff(attempt), request.signal);
        continue;
      }
      if (!last && retryable(request, response)) {
        const delay = retryDelay(response.headers.get("Retry-After"), attempt);
        if (delay <= maxDelay) {
          await response.body?.cancel();
          await sleep(delay, request.signal);
          continue;
        }
      }
      return response;
    }
  };
}
