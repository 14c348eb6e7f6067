import type { RequestIdVariables } from "hono/request-id";
import type { Principal } from "../auth/principal";
import type { LinkClaims } from "../consent/link-token";

/** Hono's environment for every route: the worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env;
  /**
   * `principal` on authenticated routes, `link` (a verified link's claims) on link routes,
   * `idempotencyRecord` (its Durable Object id) on a request with an Idempotency-Key.
   */
  Variables: { principal: Principal; link: LinkClaims; idempotencyRecord?: string } & RequestIdVariables;
}
