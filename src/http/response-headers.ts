import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { settings } from "../config";
import type { AppEnv } from "./app-env";

const LINK_PAGE = /^\/v1\/opt-(?:in|out)\//;
const logoOriginsOf = new WeakMap<object, string>();

/**
 * The images a response may load: on a link page, the organizations' logo origins (the page's
 * organization is known only once its link is verified, after these headers are prepared);
 * elsewhere none. Computed once per settings.
 */
function imageSources(c: Context): string {
  if (!LINK_PAGE.test(c.req.path)) return "'none'";
  try {
    const config = settings(c.env);
    let origins = logoOriginsOf.get(config);
    if (origins === undefined) {
      const logos = Object.values(config.OPT_IN_BRANDING).flatMap((b) => (b.logo_url ? [new URL(b.logo_url).origin] : []));
      origins = [...new Set(logos)].join(" ") || "'none'";
      logoOriginsOf.set(config, origins);
    }
    return origins;
  } catch {
    // A broken setting is reported by the route that reads it; headers stay strict meanwhile.
    return "'none'";
  }
}

/**
 * Hono's secure headers on every response. The pages carry one nonce'd stylesheet and no scripts;
 * the nonce is in `c.var.secureHeadersNonce`. JSON answers get the same (harmless) policy.
 */
export const securityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: [NONCE],
    imgSrc: [imageSources],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: "DENY",
  referrerPolicy: "no-referrer",
});

/**
 * Most answers carry personal data (histories, the feed, pages, errors that echo an identifier):
 * none is cached unless its route says so. Every answer names its request, errors included (which
 * are built as plain Responses and so miss the headers Hono prepares).
 */
export const privateByDefault = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
  c.res.headers.set("X-Request-Id", c.var.requestId);
});
