import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { settings } from "../config";
import {
  confirmOptIn,
  confirmOptOut,
  inspectOptIn,
  inspectOptOut,
  type ConfirmationContext,
  type LinkOutcome,
} from "../consent/double-opt-in";
import { LinkRefused } from "../consent/link-token";
import { ConsentEvent } from "../consent/schemas";
import { chooseLanguage, LANGUAGES, type Language } from "../languages";
import { maskIdentifier, type PageModel } from "../pages/link-page";
import { respondWithPage } from "../pages/respond";
import type { OptInStatus, OptOutStatus } from "../storage/identifier-ledger";
import { ApiError } from "./api-error";
import type { AppEnv } from "./app-env";
import { Problem, problemResponse } from "./problem";
import { throwOnInvalid } from "./validation";

const LinkParams = z.object({
  token: z.string().openapi({ param: { name: "token", in: "path" }, description: "The signed link token" }),
});
const LinkQuery = z.object({
  lang: z
    .string()
    .optional()
    .openapi({ param: { name: "lang", in: "query" }, description: `Page language (${LANGUAGES.join(", ")}); default: Accept-Language, then DEFAULT_LANGUAGE (de); English for someone who asks only for languages not offered`, example: "de" }),
});

const LinkResult = z
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
const refused = (description: string) => ({
  description,
  content: { "text/html": { schema: z.string() }, "application/problem+json": { schema: Problem } },
});
const refusals = {
  400: refused("The link is malformed or was altered (nothing recorded)"),
  409: refused("The person opted out after the link was sent (nothing recorded)"),
  410: refused("The link has expired, or its signing key was retired (nothing recorded)"),
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
    responses: { 200: html("The page (or, with Accept: application/json, the outcome)"), ...refusals },
  });

const routes = {
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

const HTML = "text/html";
const JSON_TYPE = "application/json";

/** The q-value the most specific matching range of `Accept` gives `type` (RFC 9110 §12.5.1); 0 if none matches. */
function qualityOf(type: string, ranges: { type: string; q: number }[]): number {
  const [main] = type.split("/");
  const specificity = (range: string) => (range === type ? 3 : range === `${main}/*` ? 2 : range === "*/*" ? 1 : 0);
  let best = { specificity: 0, q: 0 };
  for (const range of ranges) {
    const s = specificity(range.type.toLowerCase());
    if (s > best.specificity) best = { specificity: s, q: range.q };
  }
  return best.q;
}

/**
 * JSON only for a client that ranks it above HTML, or cannot take HTML at all. The published epilot
 * SDK and CLI send `application/json, text/plain, *\/*` and get the page, as upstream defines.
 */
const wantsJson = (c: Context) =>
  accepts(c, {
    header: "Accept",
    supports: [HTML, JSON_TYPE],
    default: HTML,
    match: (ranges) => (qualityOf(JSON_TYPE, ranges) > qualityOf(HTML, ranges) ? JSON_TYPE : HTML),
  }) === JSON_TYPE;

interface Page {
  lang: Language;
  branding?: ReturnType<typeof settings>["OPT_IN_BRANDING"][string];
}

function pageContext(c: Context<AppEnv>, organizationId?: string): Page {
  const config = settings(c.env);
  const lang = chooseLanguage(c.req.query("lang"), c.req.header("Accept-Language"), config.DEFAULT_LANGUAGE);
  const branding = organizationId ? config.OPT_IN_BRANDING[organizationId] : undefined;
  return { lang, ...(branding ? { branding } : {}) };
}

/** Who is confirming: the proof stored with the event. */
async function confirmation(c: Context<AppEnv>): Promise<ConfirmationContext> {
  const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  return {
    ipAddress: c.req.header("CF-Connecting-IP"),
    userAgent: c.req.header("User-Agent"),
    language: pageContext(c).lang,
    oneClick: form["List-Unsubscribe"] === "One-Click",
  };
}

type Outcome = LinkOutcome<OptInStatus> | LinkOutcome<OptOutStatus>;
type Presentation = { outcome: z.infer<typeof LinkResult>["outcome"]; model: PageModel };

/** What a person sees of an outcome that is not a refusal. */
function present({ claims: { topic, redirectUrl }, status, identifier, event }: Outcome, action: string): Presentation {
  const recipient = maskIdentifier(identifier);
  const redirect = redirectUrl ? { redirectUrl } : {};
  switch (status) {
    case "pending":
      return { outcome: "pending", model: { kind: "confirm", topic, recipient, action } };
    case "confirmed":
      return event
        ? { outcome: "confirmed", model: { kind: "success", topic, ...redirect } }
        : { outcome: "already_confirmed", model: { kind: "already_confirmed", topic, ...redirect } };
    case "subscribed":
      return { outcome: "subscribed", model: { kind: "opt_out_confirm", topic, recipient, action } };
    case "unsubscribed":
      return { outcome: event ? "unsubscribed" : "already_unsubscribed", model: { kind: "opt_out_success", topic } };
    case "withdrawn":
      throw new Error("a withdrawn outcome is a refusal");
  }
}

/** A refusal: a page that says what happened, or a problem for a JSON client. Nothing was recorded. */
function refuse(c: Context<AppEnv>, error: ApiError, model: PageModel, organizationId?: string) {
  if (wantsJson(c)) return problemResponse(error, c);
  return respondWithPage(c, model, error.status as 400 | 409 | 410, pageContext(c, organizationId));
}

/** Renders a link outcome as its page, or as JSON for a client that asks for it. */
function answer(c: Context<AppEnv>, outcome: Outcome) {
  const { claims, event } = outcome;
  if (outcome.status === "withdrawn") {
    const error = new ApiError("withdrawn", `The person opted out of ${claims.topic} after this link was sent.`);
    return refuse(c, error, { kind: "withdrawn", topic: claims.topic }, claims.organizationId);
  }
  const page = pageContext(c, claims.organizationId);
  // The form posts back to this link, keeping the page's language.
  const { outcome: result, model } = present(outcome, `${new URL(c.req.url).pathname}?lang=${page.lang}`);
  if (wantsJson(c)) return c.json({ outcome: result, topic: claims.topic, ...(event ? { event } : {}) }, 200);
  return respondWithPage(c, model, 200, page);
}

const LINK_PROBLEMS = {
  invalid: { kind: "invalid_link", detail: "The link is malformed or was altered.", page: "invalid" },
  expired: { kind: "expired_link", detail: "The link has expired.", page: "expired" },
  unknown_key: { kind: "expired_link", detail: "The link was signed with a key that has since been retired.", page: "expired" },
} as const;

const handle =
  (action: (env: Env, token: string, c: Context<AppEnv>) => Promise<Outcome>) =>
  async (c: Context<AppEnv>) => {
    try {
      return answer(c, await action(c.env, c.req.param("token")!, c));
    } catch (error) {
      if (error instanceof LinkRefused) {
        const problem = LINK_PROBLEMS[error.problem];
        return refuse(c, new ApiError(problem.kind, problem.detail), { kind: problem.page });
      }
      throw error;
    }
  };

/** The public pages behind double opt-in and opt-out links. */
export const linkPages = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .openapi(routes.showOptIn, handle((env, token) => inspectOptIn(env, token)))
  .openapi(routes.confirmOptIn, handle(async (env, token, c) => confirmOptIn(env, token, await confirmation(c))))
  .openapi(routes.showOptOut, handle((env, token) => inspectOptOut(env, token)))
  .openapi(routes.confirmOptOut, handle(async (env, token, c) => confirmOptOut(env, token, await confirmation(c))));

linkPages.onError(problemResponse);
