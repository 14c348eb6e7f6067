import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { settings, type RateLimitPolicy } from "../config";
import { errorFields, log } from "../log";
import { ApiError } from "./api-error";
import type { AppEnv } from "./app-env";

/**
 * The gateway's three limits (README "Rate limits"): the binding that counts, the setting that
 * mirrors its policy (a binding cannot be asked for it) and the policy's name in the headers.
 */
const LIMITS = {
  organization: { binding: "API_RATE_LIMITER", setting: "RATE_LIMIT_API", name: "org", who: "This organization" },
  clientIp: { binding: "PUBLIC_RATE_LIMITER", setting: "RATE_LIMIT_PUBLIC", name: "ip", who: "This address" },
  authFailures: { binding: "AUTH_FAILURE_RATE_LIMITER", setting: "RATE_LIMIT_AUTH_FAILURES", name: "auth-failures", who: "This client id" },
} as const;
export type LimitName = keyof typeof LIMITS;

/** A request over one of the limits: refused before it reads its body or writes anything. */
export class RateLimited extends ApiError {
  constructor(
    readonly limit: LimitName,
    readonly policy: RateLimitPolicy,
  ) {
    const { name, who } = LIMITS[limit];
    const { limit: quota, period } = policy;
    const counted = limit === "authFailures" ? "failed authentications" : "requests";
    super("rate_limited", `${who} sent more than ${quota} ${counted} in ${period} seconds; nothing was recorded. Retry after ${period} seconds.`, [], {
      // The binding does not say when its window ends: a whole period is the most a client waits.
      "Retry-After": String(period),
      "RateLimit-Policy": `"${name}";q=${quota};w=${period}`,
      RateLimit: `"${name}";r=0;t=${period}`,
    });
  }
}

/**
 * Counts one request against `limit` for `key`, and throws RateLimited when it is over. A limiter
 * that fails lets the request through (logged): the limits protect the gateway, they are not
 * worth an outage of their own.
 */
export async function consume(c: Context<AppEnv>, limit: LimitName, key: string): Promise<void> {
  const { binding, setting } = LIMITS[limit];
  let success: boolean;
  try {
    ({ success } = await c.env[binding].limit({ key }));
  } catch (error) {
    log(c.env, "warn", "a rate limiter failed; the request was let through", { request_id: c.var.requestId, limit, ...errorFields(error) });
    return;
  }
  if (!success) throw new RateLimited(limit, settings(c.env)[setting]);
}

/** The caller's address as Cloudflare's edge saw it (absent only when the worker is called directly, as in tests). */
export const clientIp = (c: Context<AppEnv>) => c.req.header("CF-Connecting-IP") ?? "unknown";

/** Per client IP, for the public pages (links, preferences): mount it before anything else of the route. */
export const limitPerClientIp = createMiddleware<AppEnv>(async (c, next) => {
  await consume(c, "clientIp", clientIp(c));
  await next();
});

/** Per organization, after authentication (`principal` is set) and before the body is read. */
export const limitPerOrganization = createMiddleware<AppEnv>(async (c, next) => {
  await consume(c, "organization", c.var.principal.organizationId);
  await next();
});
