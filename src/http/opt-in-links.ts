import { OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { confirmOptIn, confirmOptOut, inspectOptIn, inspectOptOut, type ConfirmationContext, type LinkOutcome } from "../consent/double-opt-in";
import { maskIdentifier, type PageModel } from "../pages/link-page";
import type { OptInStatus, OptOutStatus } from "../storage/ledger/identifier-ledger";
import type { AppEnv } from "./app-env";
import { pageContext, respondWithLinkPage, type PageContext } from "./link-page-response";
import { linkRoutes, type LinkResult } from "./link-routes";
import { wantsJson } from "./negotiation";
import { throwOnInvalid } from "./validation";

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
  (action: (env: Env, token: string, c: Context<AppEnv>) => Promise<Outcome>) =>
  async (c: Context<AppEnv>) => {
    const outcome = await action(c.env, c.req.param("token")!, c);
    const page = pageContext(c, outcome.claims.organizationId);
    // The form posts back to this link, keeping the page's language.
    const { outcome: result, model } = present(outcome, page, `${new URL(c.req.url).pathname}?lang=${page.lang}`);
    if (wantsJson(c)) return c.json({ outcome: result, topic: outcome.claims.topic, ...(outcome.event ? { event: outcome.event } : {}) }, 200);
    return respondWithLinkPage(c, model, 200, page);
  };

/** The public pages behind double opt-in and opt-out links. */
export const linkPages = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .openapi(linkRoutes.showOptIn, handle((env, token) => inspectOptIn(env, token)))
  .openapi(linkRoutes.confirmOptIn, handle(async (env, token, c) => confirmOptIn(env, c.executionCtx, token, await confirmation(c))))
  .openapi(linkRoutes.showOptOut, handle((env, token) => inspectOptOut(env, token)))
  .openapi(linkRoutes.confirmOptOut, handle(async (env, token, c) => confirmOptOut(env, c.executionCtx, token, await confirmation(c))));
