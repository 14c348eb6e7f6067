import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../src/index";
import { BASE } from "./gateway";

/**
 * The real rate limiter binding, answering "over the limit" while `refusing` (or throwing while
 * `failing`); every call still goes to the real binding, and its key is kept in `keys`.
 */
export function wrapLimiter(real: RateLimit, options: { refusing?: boolean; failing?: boolean } = {}) {
  const keys: string[] = [];
  const limiter = {
    refusing: options.refusing ?? true,
    failing: options.failing ?? false,
    async limit(request: RateLimitOptions): Promise<RateLimitOutcome> {
      keys.push(request.key);
      if (limiter.failing) throw new Error("the rate limiter is unavailable (injected fault)");
      const outcome = await real.limit(request);
      return limiter.refusing ? { success: false } : outcome;
    },
  };
  return { keys, limiter, binding: limiter as RateLimit };
}

/** A request through the app with some bindings replaced, waiting for its background work. */
export async function callWith(bindings: Partial<Env>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const response = await app.request(new Request(`${BASE}${path}`, init), undefined, { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
