import type { RequestIdVariables } from "hono/request-id";
import type { Principal } from "../auth/principal";

/** Hono's environment for every route: the worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env;
  Variables: { principal: Principal } & RequestIdVariables;
}
