import type { Context, Hono } from "hono";
import { PatternRouter } from "hono/router/pattern-router";
import { ApiError } from "./api-error";
import { problemResponse } from "./problem";

/**
 * The app's not-found handler: a 405 with `Allow` when the path exists under other methods,
 * otherwise a 404; both as problem details.
 */
export function notFound(app: Hono<any>) {
  let router: PatternRouter<string> | undefined;
  // Built on first use, when every route is registered.
  const methodsFor = (path: string) => {
    if (!router) {
      router = new PatternRouter<string>();
      for (const route of app.routes) if (route.method !== "ALL") router.add("ALL", route.path, route.method);
    }
    const methods = new Set(router.match("GET", path)[0].map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods];
  };
  return (c: Context) => {
    const allowed = methodsFor(c.req.path);
    const error = allowed.length
      ? new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${allowed.join(", ")}.`, [], {
          Allow: allowed.join(", "),
        })
      : new ApiError("not_found", `There is no route ${c.req.method} ${c.req.path}.`);
    return problemResponse(error, c);
  };
}
