import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { verifyBasic } from "../auth/basic";
import { verifyBearer } from "../auth/bearer";
import { claimedIdentity } from "../auth/claimed-identity";
import { MissingScope, Unauthenticated } from "../auth/errors";
import type { Principal } from "../auth/principal";
import { settings, type Scope, type Settings } from "../config";
import type { AppEnv } from "./app-env";
import { clientIp, consume, limitPerOrganization } from "./rate-limit";
import { security } from "./responses";

async function principalOf(header: string, config: Settings): Promise<Principal> {
  const [scheme = "", credentials = ""] = header.trim().split(/\s+/, 2);
  switch (scheme.toLowerCase()) {
    case "basic": {
      const principal = await verifyBasic(credentials, config.API_CLIENTS);
      if (!principal) throw new Unauthenticated("The client id or secret is wrong.");
      return principal;
    }
    case "bearer":
      return verifyBearer(credentials, config);
    default:
      throw new Unauthenticated(header ? "Use HTTP Basic or Bearer authentication." : "Credentials are required.");
  }
}

/**
 * Accepts HTTP Basic (an API client) or a Bearer JWT, and sets `principal`. A refusal counts
 * against the failures of the identity it claimed (or, naming none, of the caller's address):
 * past the limit it is answered 429 instead of 401.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  try {
    c.set("principal", await principalOf(header, settings(c.env)));
  } catch (error) {
    if (error instanceof Unauthenticated) await consume(c, "authFailures", claimedIdentity(header) ?? `ip:${clientIp(c)}`);
    throw error;
  }
  await next();
});

/** Refuses a principal that lacks `scope`. */
export const requireScope = (scope: Scope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!c.var.principal.scopes.has(scope)) throw new MissingScope(scope);
    await next();
  });

/**
 * What every authenticated operation declares: both security schemes, the credential check, the
 * organization's rate limit (before anything is read or written), its scope, then `more`.
 */
export const authenticated = (scope: Scope, ...more: MiddlewareHandler<AppEnv>[]) => ({
  security,
  middleware: [authenticate, limitPerOrganization, requireScope(scope), ...more],
});
