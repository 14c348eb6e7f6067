import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { settings } from "../../config";
import { verifyPreferencesToken } from "../../consent/double-opt-in";
import { exportFileName } from "../../consent/export";
import { exportPreferences, savePreferences, viewPreferences, type PreferencesContext, type PreferencesView } from "../../consent/preferences";
import { ConsentExport, PreferencesForm } from "../../consent/schemas";
import { maskIdentifier } from "../../pages/link-page";
import { ApiError } from "../api-error";
import type { AppEnv } from "../app-env";
import { refused, TOO_MANY } from "./definitions";
import { FAILED } from "../responses";
import { throwOnInvalid } from "../validation";
import { answerLinkRefusal, linkBodyLimit, pageContext, respondWithLinkPage, type PageContext } from "./page-response";
import { limitPerClientIp } from "../rate-limit";

/** A form with a hidden field and a checkbox per topic: room for a few hundred topics. */
export const MAX_PREFERENCES_BODY_BYTES = 64 * 1024;

const Params = z.object({
  token: z.string().openapi({ param: { name: "token", in: "path" }, description: "The signed preference page token" }),
});
const Query = z.object({
  lang: z.string().optional().openapi({ param: { name: "lang", in: "query" }, description: "Page language; default: Accept-Language, then DEFAULT_LANGUAGE", example: "de" }),
});
const Headers = z.object({
  "sec-gpc": z
    .string()
    .optional()
    .openapi({ param: { name: "sec-gpc", in: "header" }, description: "Global Privacy Control: 1 opts out of the topics the organization marks gpc_opt_out on save" }),
});

const page = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });
const refusals = {
  400: refused("The link is malformed or was altered, or the form names a topic the page does not show (nothing recorded)"),
  410: refused("The link has expired, or its signing key was retired (nothing recorded)"),
  429: TOO_MANY,
};
const postRefusals = {
  ...refusals,
  403: refused("The request came from another site (its Origin header names another origin; nothing recorded)"),
  413: refused(`The form body is larger than ${MAX_PREFERENCES_BODY_BYTES / 1024} KiB (nothing recorded)`),
  500: refused(FAILED),
};
const formBody = { body: { required: true, content: { "application/x-www-form-urlencoded": { schema: PreferencesForm } } } };

const showPreferencesRoute = createRoute({
  operationId: "showPreferencesPage",
  method: "get",
  path: "/v1/preferences/{token}",
  tags: ["consent"],
  summary: "Shows a person's preference page",
  description:
    "Public. Every topic of the organization (ORGANIZATIONS) and of the person's history, with its current state and the organization's branding. " +
    "Changes nothing (GET and HEAD are safe for email scanners); the page's form POSTs to the same URL.",
  request: { params: Params, query: Query, headers: Headers },
  responses: { 200: page("The page"), ...refusals },
});

const savePreferencesRoute = createRoute({
  operationId: "savePreferences",
  method: "post",
  path: "/v1/preferences/{token}",
  tags: ["consent"],
  summary: "Saves a person's choices on their preference page",
  description:
    'Public. Records an OPT_IN or OPT_OUT (source "preference_page", with proof) per topic that changed, all in one ledger transaction; ' +
    "action=unsubscribe_all opts out of every topic; with Sec-GPC: 1 the topics marked gpc_opt_out are opted out (meta.gpc: true). Answers the page as it now stands.",
  request: { params: Params, query: Query, headers: Headers, ...formBody },
  responses: { 200: page("The page, saying the choices were saved"), ...postRefusals },
});

const downloadRoute = createRoute({
  operationId: "downloadPreferencesExport",
  method: "post",
  path: "/v1/preferences/{token}/export",
  tags: ["consent"],
  summary: "The preference page's \"download my data\": the person's export, as a file",
  description: "Public. What exportConsentHistory answers, for the link's person only, as an attachment. A button, not a link, so that no crawler of the page fetches it.",
  request: { params: Params, query: Query },
  responses: { 200: { description: "The export", content: { "application/json": { schema: ConsentExport } } }, ...postRefusals },
});

/** Verifies the link before anything else; a POST must come from the page itself (where the browser says) and is read up to the limit. */
const verified = ({ post }: { post: boolean }) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const claims = await verifyPreferencesToken(c.env, c.req.param("token")!);
    c.set("preferences", claims);
    if (!post) return next();
    // The token binds the person, so no CSRF token is needed; but a browser says which site posted:
    // Fetch Metadata where sent, else Origin (a page with no-referrer posts "Origin: null").
    const site = c.req.header("Sec-Fetch-Site");
    const origin = c.req.header("Origin");
    const own = [new URL(c.req.url).origin, settings(c.env).PUBLIC_BASE_URL];
    const foreign = site !== undefined ? site !== "same-origin" && site !== "none" : origin !== undefined && origin !== "null" && !own.includes(origin);
    if (foreign) throw new ApiError("forbidden", "The form was sent from another site; open the preference page and save there.");
    return linkBodyLimit(MAX_PREFERENCES_BODY_BYTES, claims.organizationId)(c, next);
  });

/** Who is saving and how: the proof stored with each event, and whether Global Privacy Control was sent. */
function context(c: Context<AppEnv>, lang: PageContext["lang"]): PreferencesContext {
  return {
    ipAddress: c.req.header("CF-Connecting-IP"),
    requestId: c.var.requestId,
    userAgent: c.req.header("User-Agent"),
    language: lang,
    gpc: gpcSent(c),
  };
}

const gpcSent = (c: Context<AppEnv>) => c.req.header("Sec-GPC")?.trim() === "1";

/** The page of a view: the form posts back to this link, keeping the page's language. */
function respond(c: Context<AppEnv>, view: PreferencesView, saved: boolean) {
  const context = pageContext(c, view.claims.organizationId);
  const gpc = gpcSent(c);
  const path = new URL(c.req.url).pathname.replace(/\/export$/, "");
  return respondWithLinkPage(
    c,
    {
      kind: "preferences",
      recipient: maskIdentifier(view.identifier),
      topics: view.topics.map((t) => ({ topic: t.topic, label: context.label(t.topic), status: t.status, gpcLocked: gpc && t.gpcOptOut })),
      action: `${path}?lang=${context.lang}`,
      exportAction: `${path}/export?lang=${context.lang}`,
      gpc,
      saved,
    },
    200,
    context,
  );
}

/** A person's preference page: every topic, changed with one POST; "unsubscribe from everything"; "download my data". */
export const preferencePages = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .onError(answerLinkRefusal)
  .openapi({ ...showPreferencesRoute, middleware: [limitPerClientIp, verified({ post: false })] }, async (c) => respond(c, await viewPreferences(c.env, c.var.preferences), false))
  .openapi({ ...savePreferencesRoute, middleware: [limitPerClientIp, verified({ post: true })] }, async (c) => {
    const { lang } = pageContext(c);
    const { view } = await savePreferences(c.env, c.executionCtx, c.var.preferences, c.req.valid("form"), context(c, lang));
    return respond(c, view, true);
  })
  .openapi({ ...downloadRoute, middleware: [limitPerClientIp, verified({ post: true })] }, async (c) => {
    const document = await exportPreferences(c.env, c.var.preferences);
    return c.json(document, 200, { "Content-Disposition": `attachment; filename="${exportFileName(document)}"` });
  });
