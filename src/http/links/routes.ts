import { OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import {
  confirmOptIn,
  confirmOptOut,
  inspectOptIn,
  inspectOptOut,
  verifyLinkToken,
  type ConfirmationContext,
  type LinkOutcome,
  type OptInStatus,
  type OptOutStatus,
} from "../../consent/double-opt-in";
import type { LinkClaims, LinkPurpose } from "../../consent/link-token";
import { maskIdentifier, type PageModel } from "../../pages/link-page";
import type { AppEnv } from "../app-env";
import { answerLinkRefusal, linkBodyLimit, pageContext, respondWithLinkPage, type PageContext } from "./page-response";
import { linkRoutes, MAX_LINK_BODY_BYTES, type LinkResult } from "./definitions";
import { wantsJson } from "../negotiation";
import { limitPerClientIp } from "../rate-limit";
import { throwOnInvalid } from "../validation";

/**
 * Verifies the link before anything else (anyone can send anything to a link URL): a forged,
 * altered or expired link is refused before its body is read; a POST's body is then read up to
 * MAX_LINK_BODY_BYTES, refused on the link's own page.
 */
const verified = (purpose: LinkPurpose, { body }: { body: boolean }) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const claims = await verifyLinkToken(c.env, c.req.param("token")!, purpose);
    c.set("link", claims);
    if (!body) return next();
    return linkBodyLimit(MAX_LINK_BODY_BYTES, claims.organizationId)(c, next);
  });

/** Who is confirming: the proof stored with the event. */
async function confirmation(c: Context<AppEnv>): Promise<ConfirmationContext> {
  const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  return {
    ipAddress: c.req.header("CF-Connecting-IP"),
    requestId: c.var.requestId,
    userAgent: c.req.header("User-Agent"),
    language: pageContext(c).lang,
    oneClick: form["List-Unsubscribe"] === "One-Click",
  };
}

type Outcome = LinkOutcome<OptInStatus> | LinkOutcome<OptOutStatus>;
type Presentation = { outcome: z.infer<typeof LinkResult>["outcome"]; model: PageModel };

/** What a person sees of an outcome (refusals are thrown, and answered by the app's error handler). */
function present({ claims: { topic, redirectUrl }, status, identifier, event }: Outcome, page: PageContext, action: string): Presentation {
  const recipient = maskIdentifier(identifier);
  const redirect = redirectUrl ? { redirectUrl } : {};
  const label = page.label(topic);
  switch (status) {
    case "pending":
      return { outcome: "pending", model: { kind: "confirm", topic: label, recipient, action } };
    case "confirmed":
      return event
        ? { outcome: "confirmed", model: { kind: "success", topic: label, ...redirect } }
        : { outcome: "already_confirmed", model: { kind: "already_confirmed", topic: label, ...redirect } };
    case "subscribed":
      return { outcome: "subscribed", model: { kind: "opt_out_confirm", topic: label, recipient, action } };
    case "unsubscribed":
      return { outcome: event ? "unsubscribed" : "already_unsubscribed", model: { kind: "opt_out_success", topic: label } };
  }
}

/** Answers a link's outcome as its page, or as JSON for a client that prefers it. */
const handle =
  (action: (env: Env, claims: LinkClaims, c: Context<AppEnv>) => Promise<Outcome>) =>
  async (c: Context<AppEnv>) => {
    const outcome = await action(c.env, c.var.link, c);
    const page = pageContext(c, outcome.claims.organizationId);
    // The form posts back to this link, keeping the page's language.
    const { outcome: result, model } = present(outcome, page, `${new URL(c.req.url).pathname}?lang=${page.lang}`);
    if (wantsJson(c)) return c.json({ outcome: result, topic: outcome.claims.topic, ...(outcome.event ? { event: outcome.event } : {}) }, 200);
    return respondWithLinkPage(c, model, 200, page);
  };

/** The public pages behind double opt-in and opt-out links. */
export const linkPages = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .onError(answerLinkRefusal)
  .openapi({ ...linkRoutes.showOptIn, middleware: [limitPerClientIp, verified("opt-in", { body: false })] }, handle(inspectOptIn))
  .openapi(
    { ...linkRoutes.confirmOptIn, middleware: [limitPerClientIp, verified("opt-in", { body: true })] },
    handle(async (env, claims, c) => confirmOptIn(env, c.executionCtx, claims, await confirmation(c))),
  )
  .openapi({ ...linkRoutes.showOptOut, middleware: [limitPerClientIp, verified("opt-out", { body: false })] }, handle(inspectOptOut))
  .openapi(
    { ...linkRoutes.confirmOptOut, middleware: [limitPerClientIp, verified("opt-out", { body: true })] },
    handle(async (env, claims, c) => confirmOptOut(env, c.executionCtx, claims, await confirmation(c))),
  );
