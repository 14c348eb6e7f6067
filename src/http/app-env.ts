import type { RequestIdVariables } from "hono/request-id";
import type { Principal } from "../auth/principal";
import type { LinkClaims, PreferencesClaims } from "../consent/link-token";

/** Hono's environment for every route: the worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env;
  /**
   * `principal` on authenticated routes, `link` (a verified link's claims) on link routes,
   * `preferences` on preference page routes, `idempotencyRecord` (its Durable Object id) on a
   * request with an Idempotency-Key.
   */
  Variables: { principal: Principal; link: LinkClaims; preferences: PreferencesClaims; idempotencyRecord?: string } & RequestIdVariables;
}
