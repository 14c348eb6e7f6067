import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { settings, type Branding } from "../../config";
import { ConsentWithdrawn, LinkRefused } from "../../consent/errors";
import { chooseLanguage, type Language } from "../../languages";
import type { PageModel } from "../../pages/link-page";
import { respondWithPage } from "../../pages/respond";
import { PayloadTooLarge, toApiError, type ApiError } from "../api-error";
import type { AppEnv } from "../app-env";
import { wantsJson } from "../negotiation";
import { problemResponse } from "../problem";
import { RateLimited } from "../rate-limit";

/** How a link's page speaks and looks: the reader's language, the organization's branding and topic labels. */
export interface PageContext {
  lang: Language;
  branding?: Branding;
  /** The organization's label for a topic in `lang`, or the topic id. */
  label(topic: string): string;
}

export function pageContext(c: Context<AppEnv>, organizationId?: string): PageContext {
  const config = settings(c.env);
  const lang = chooseLanguage(c.req.query("lang"), c.req.header("Accept-Language"), config.DEFAULT_LANGUAGE);
  const branding = organizationId === undefined ? undefined : config.OPT_IN_BRANDING[organizationId];
  const topics = organizationId === undefined ? undefined : config.ORGANIZATIONS[organizationId]?.topics;
  const label = (topic: string) => {
    const entry = branding?.topic_labels[topic] ?? topics?.[topic]?.label;
    return (typeof entry === "string" ? entry : (entry?.[lang] ?? entry?.en)) ?? topic;
  };
  return { lang, ...(branding ? { branding } : {}), label };
}

/** Answers a link page in the reader's language, branded for `organizationId` when it is known. */
export function respondWithLinkPage(c: Context<AppEnv>, model: PageModel, status: 200 | 400 | 409 | 410 | 413 | 429, context = pageContext(c), headers?: Record<string, string>) {
  return respondWithPage(c, model, status, context, headers);
}

/** A link's POST body over the limit, on a link whose signature named `organizationId`. */
export class LinkBodyTooLarge extends PayloadTooLarge {
  constructor(
    maxBytes: number,
    readonly organizationId: string,
  ) {
    super(maxBytes);
  }
}

/** Reads a link's POST body up to `maxBytes`; more is refused on the link's own page (its signature named `organizationId`). */
export const linkBodyLimit = (maxBytes: number, organizationId: string) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new LinkBodyTooLarge(maxBytes, organizationId);
    },
  });

/**
 * The page of a refused link, or undefined when `error` is no link refusal. The organization is
 * named only when the link's signature proved it (an expired link, or one for a request that is gone).
 */
function refusalPage(c: Context<AppEnv>, error: unknown, refusal: ApiError): Response | undefined {
  if (error instanceof LinkRefused) {
    const context = pageContext(c, error.organizationId);
    return respondWithLinkPage(c, { kind: error.problem === "invalid" ? "invalid" : "expired" }, refusal.status as 400 | 410, context);
  }
  // Refused before the link was read: unbranded, in the reader's language.
  if (error instanceof RateLimited) {
    return respondWithLinkPage(c, { kind: "too_many_requests", retryAfterSeconds: error.policy.period }, 429, pageContext(c), refusal.headers);
  }
  if (error instanceof LinkBodyTooLarge) return respondWithLinkPage(c, { kind: "too_large" }, 413, pageContext(c, error.organizationId));
  if (error instanceof ConsentWithdrawn) {
    const context = pageContext(c, error.organizationId);
    return respondWithLinkPage(c, { kind: "withdrawn", topic: context.label(error.topic) }, 409, context);
  }
  return undefined;
}

/**
 * The link surface's error handler (Hono's per-app onError): a refusal a person meets is a page in
 * their language, branded when the link proved its organization; a client that prefers JSON, or a
 * failure no page describes, gets problem details.
 */
export function answerLinkRefusal(error: unknown, c: Context<AppEnv>): Response {
  const refusal = toApiError(error, c);
  return (wantsJson(c) ? undefined : refusalPage(c, error, refusal)) ?? problemResponse(refusal, c);
}
