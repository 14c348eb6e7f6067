import { createRoute, z } from "@hono/zod-openapi";
import { ConsentEvent } from "../../consent-event";
import { LANGUAGES } from "../../languages";
import { Problem } from "../problem";
import { FAILED } from "../responses";

/**
 * What a link's POST may carry: the page's button sends `confirm=yes`, a mail client's RFC 8058
 * one-click `List-Unsubscribe=One-Click`; 16 KiB leaves room for what else a form or client adds.
 */
export const MAX_LINK_BODY_BYTES = 16 * 1024;

const LinkParams = z.object({
  token: z.string().openapi({ param: { name: "token", in: "path" }, description: "The signed link token" }),
});
const LinkQuery = z.object({
  lang: z
    .string()
    .optional()
    .openapi({ param: { name: "lang", in: "query" }, description: `Page language (${LANGUAGES.join(", ")}); default: Accept-Language, then DEFAULT_LANGUAGE (de); English for someone who asks only for languages not offered`, example: "de" }),
});

export const LinkResult = z
  .object({
    outcome: z.enum(["pending", "confirmed", "already_confirmed", "subscribed", "unsubscribed", "already_unsubscribed"]),
    topic: z.string(),
    event: ConsentEvent.optional(),
  })
  .openapi("LinkResult");

const html = (description: string) => ({
  description,
  content: {
    "text/html": { schema: z.string() },
    "application/json": { schema: LinkResult },
  },
});
/** A refusal a link route documents: a page in the reader's language, or problem details for a client that prefers them. */
export const refused = (description: string) => ({
  description,
  content: { "text/html": { schema: z.string() }, "application/problem+json": { schema: Problem } },
});
/** The rate limit's refusal (RATE_LIMIT_PUBLIC), on every public page route. */
export const TOO_MANY = refused("Too many requests from this address (RATE_LIMIT_PUBLIC; nothing recorded): retry after Retry-After seconds");

const refusals = {
  400: refused("The link is malformed or was altered (nothing recorded)"),
  409: refused("The person opted out after the link was sent (nothing recorded)"),
  410: refused("The link has expired, or its signing key was retired (nothing recorded)"),
  429: TOO_MANY,
};

/** What only a POST can be refused for: its body; and only a POST writes. */
const postRefusals = {
  413: refused(`The form body is larger than ${MAX_LINK_BODY_BYTES / 1024} KiB (nothing recorded)`),
  500: refused(FAILED),
};

const linkRoute = (operationId: string, method: "get" | "post", path: string, summary: string, description: string) =>
  createRoute({
    operationId,
    method,
    path,
    tags: ["consent"],
    summary,
    description,
    request: { params: LinkParams, query: LinkQuery },
    responses: { 200: html("The page (or, for a client preferring application/json or a +json type, the outcome)"), ...refusals, ...(method === "post" ? postRefusals : {}) },
  });

/** The public pages behind double opt-in and opt-out links. */
export const linkRoutes = {
  showOptIn: linkRoute(
    "handleOptInWithToken",
    "get",
    "/v1/opt-in/{token}",
    "Endpoint to handle opt-in links",
    "Public. Shows the confirmation page of a double opt-in link; changes nothing (GET and HEAD are safe for email scanners). The page's button POSTs to the same URL.",
  ),
  confirmOptIn: linkRoute(
    "confirmOptInWithToken",
    "post",
    "/v1/opt-in/{token}",
    "Confirms a double opt-in link",
    "Public. Records DOUBLE_OPT_IN with proof (request sequence, IP, user agent, language). Idempotent; refused after a later OPT_OUT.",
  ),
  showOptOut: linkRoute(
    "handleOptOutWithToken",
    "get",
    "/v1/opt-out/{token}",
    "Shows the unsubscribe page of an opt-out link",
    "Public. Changes nothing; the page's button POSTs to the same URL.",
  ),
  confirmOptOut: linkRoute(
    "optOutWithToken",
    "post",
    "/v1/opt-out/{token}",
    "Opts out through a link (RFC 8058 one-click)",
    "Public. Records OPT_OUT unless already opted out. Accepts the RFC 8058 body List-Unsubscribe=One-Click.",
  ),
};
