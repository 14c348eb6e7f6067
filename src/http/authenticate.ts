import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { verifyBasic } from "../auth/basic";
import { verifyBearer } from "../auth/bearer";
import { MissingScope, Unauthenticated } from "../auth/errors";
import { settings, type Scope } from "../config";
import type { AppEnv } from "./app-env";
import { security } from "./responses";

/** Accepts HTTP Basic (an API client) or a Bearer JWT, and sets `principal`. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  const [scheme = "", credentials = ""] = header.trim().split(/\s+/, 2);
  const config = settings(c.env);
  switch (scheme.toLowerCase()) {
    case "basic": {
      const principal = await verifyBasic(credentials, config.API_CLIENTS);
      if (!principal) throw new Unauthenticated("The client id or secret is wrong.");
      c.set("principal", principal);
      break;
    }
    case "bearer":
      c.set("principal", await verifyBearer(credentials, config));
      break;
    default:
      throw new Unauthenticated(header ? "Use HTTP Basic or Bearer authentication." : "Credentials are required.");
  }
  await next();
});

/** Refuses a principal that lacks `scope`. */
export const requireScope = (scope: Scope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!c.var.principal.scopes.has(scope)) throw new MissingScope(scope);
    await next();
  });

/** What every authenticated operation declares: both security schemes, the credential check, its scope, then `more`. */
export const authenticated = (scope: Scope, ...more: MiddlewareHandler<AppEnv>[]) => ({
  security,
  middleware: [authenticate, requireScope(scope), ...more],
});
