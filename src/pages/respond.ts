import type { Context } from "hono";
import type { Branding } from "../config";
import type { Language } from "../languages";
import { DICTIONARIES } from "./i18n";
import { LinkPage, type PageModel } from "./link-page";

/** The page's own headers; the security headers are set for every response (http/response-headers.ts). */
export const PAGE_HEADERS = { "X-Robots-Tag": "noindex, nofollow" };

/** Answers a consent link's page. */
export function respondWithPage(
  c: Context,
  model: PageModel,
  status: 200 | 400 | 409 | 410 | 413 | 429,
  { lang, branding }: { lang: Language; branding?: Branding },
  /** The refusal's own headers, e.g. a 429's Retry-After. */
  headers: Record<string, string> = {},
): Response {
  const page = LinkPage({ model, lang, t: DICTIONARIES[lang], branding, nonce: c.get("secureHeadersNonce") ?? "" });
  return c.html(`<!doctype html>${page}`, status, { ...headers, ...PAGE_HEADERS });
}
