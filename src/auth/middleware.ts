import { createMiddleware } from "hono/factory";
import { settings, type Scope } from "../config";
import { log } from "../log";
import { ApiError } from "../http/api-error";
import type { AppEnv } from "../http/app-env";
import { verifyBasic } from "./basic";
import { KeysUnavailable, TokenRefused, verifyBearer } from "./bearer";

const REALM = 'realm="consent-gateway"';

function unauthorized(detail: string, bearerError?: string): ApiError {
  const bearer = bearerError ? `Bearer ${REALM}, error="${bearerError}"` : `Bearer ${REALM}`;
  return new ApiError("unauthorized", detail, [], { "WWW-Authenticate": `${bearer}, Basic ${REALM}, charset="UTF-8"` });
}

/** Accepts HTTP Basic (an API client) or a Bearer JWT, and sets `principal`. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  const [scheme = "", credentials = ""] = header.trim().split(/\s+/, 2);
  const config = settings(c.env);
  switch (scheme.toLowerCase()) {
    case "basic": {
      const principal = await verifyBasic(credentials, config.API_CLIENTS);
      if (!principal) throw unauthorized("The client id or secret is wrong.");
      c.set("principal", principal);
      break;
    }
    case "bearer": {
      try {
        c.set("principal", await verifyBearer(credentials, config));
      } catch (error) {
        if (error instanceof TokenRefused) throw unauthorized(error.message, "invalid_token");
        if (error instanceof KeysUnavailable) {
          log("warn", "JWKS unavailable", { request_id: c.var.requestId, problem: error.message });
          throw new ApiError("unavailable", "The identity provider's keys could not be fetched; try again shortly.", [], { "Retry-After": "5" });
        }
        throw error;
      }
      break;
    }
    default:
      throw unauthorized(header ? "Use HTTP Basic or Bearer authentication." : "Credentials are required.");
  }
  await next();
});

/** Refuses a principal that lacks `scope` with a 403. */
export const requireScope = (scope: Scope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!c.var.principal.scopes.has(scope)) {
      throw new ApiError("forbidden", `This operation needs the "${scope}" scope.`);
    }
    await next();
  });
