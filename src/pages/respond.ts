import type { Context } from "hono";
import type { Branding } from "../config";
import { DICTIONARIES, type Language } from "./i18n";
import { LinkPage, type PageModel } from "./link-page";

/** A fresh nonce for the one inline stylesheet a page may carry. */
export const newNonce = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));

/**
 * Headers that keep a page private and inert: a strict CSP (one nonce'd stylesheet, no scripts,
 * images only from `imageOrigin`), no referrer, no caching, no indexing, no framing.
 */
export function pageHeaders(nonce: string, imageOrigin?: string): Record<string, string> {
  return {
    "Content-Security-Policy": `default-src 'none'; style-src 'nonce-${nonce}'; img-src ${imageOrigin ?? "'none'"}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
  };
}

/** Answers a consent link's page. */
export function respondWithPage(
  c: Context,
  model: PageModel,
  status: 200 | 400 | 409 | 410,
  { lang, branding }: { lang: Language; branding?: Branding },
): Response {
  const nonce = newNonce();
  const page = LinkPage({ model, lang, t: DICTIONARIES[lang], branding, nonce });
  return c.html(`<!doctype html>${page}`, status, pageHeaders(nonce, branding?.logo_url && new URL(branding.logo_url).origin));
}
