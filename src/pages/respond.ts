import type { Context } from "hono";
import type { Branding } from "../config";
import { DICTIONARIES, type Language } from "./i18n";
import { LinkPage, type PageModel } from "./link-page";

/**
 * Answers a consent link's page with headers that keep it private and inert: a strict CSP
 * (one nonce'd stylesheet, no scripts, images only from the organization's logo origin),
 * no referrer, no caching, no indexing.
 */
export function respondWithPage(
  c: Context,
  model: PageModel,
  status: 200 | 400 | 409 | 410,
  { lang, branding }: { lang: Language; branding?: Branding },
): Response {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const logoOrigin = branding?.logo_url ? new URL(branding.logo_url).origin : "'none'";
  const page = LinkPage({ model, lang, t: DICTIONARIES[lang], branding, nonce });
  return c.html(`<!doctype html>${page}`, status, {
    "Content-Security-Policy": `default-src 'none'; style-src 'nonce-${nonce}'; img-src ${logoOrigin}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
  });
}
