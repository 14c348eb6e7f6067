import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ConsentEvent } from "../../consent-event";
import { requestDoubleOptIn } from "../../consent/double-opt-in";
import { createPreferencesLink } from "../../consent/preferences";
import {
  AudiencePage,
  AudienceQuery,
  ConsentEventList,
  IdentifierPath,
  ConsentEventRequestBody,
  DoubleOptInLinks,
  DoubleOptInRequestBody,
  ListConsentEventsQuery,
  OrganizationEventPage,
  OrganizationEventsQuery,
  PreferencesLink,
  PreferencesLinkQuery,
} from "../../consent/schemas";
import { listAudience, listEvents, listOrganizationEvents, recordEvent } from "../../consent/service";
import type { AppEnv } from "../app-env";
import { authenticated } from "../authenticate";
import { bookmarkAnswered, BookmarkHeaders, inSession } from "../d1-session";
import { IdempotencyHeaders, idempotent } from "../idempotency";
import { jsonBody } from "../json-body";
import { PreferReceipt, ReceiptField, withReceipt } from "../prefer-receipt";
import { requestRecording } from "../request-proof";
import { jsonAnswer, jsonRequest, readRefusals, writeRefusals } from "../responses";
import { answerAsProblem } from "../problem";
import { throwOnInvalid } from "../validation";

const publishConsentEvent = createRoute({
  operationId: "publishConsentEvent",
  method: "post",
  path: "/v1/consent/publish",
  tags: ["consent"],
  summary: "Publishes consent event on event bus, which appends to consent store",
  description:
    "Appends an OPT_IN or OPT_OUT to the identifier's history in the caller's organization. " +
    "Answers once the event is durable; it is visible to listConsentEvents at once.",
  ...authenticated("consent:write", ...jsonBody, idempotent("publishConsentEvent")),
  request: { ...jsonRequest(ConsentEventRequestBody), headers: IdempotencyHeaders.extend(PreferReceipt.shape) },
  responses: { 201: jsonAnswer("The stored event (with Prefer: return=receipt, its receipt too)", ConsentEvent.extend(ReceiptField).openapi("RecordedConsentEvent")), ...writeRefusals },
});

const listConsentEvents = createRoute({
  operationId: "listConsentEvents",
  method: "get",
  path: "/v1/consent/{identifier}",
  tags: ["consent"],
  summary: "List opt-ins and opt-outs by customer identifier",
  description:
    "The identifier's events, newest first, in the order they were appended. next_cursor, when present, pins the next page to what this one saw: pages then never overlap.",
  ...authenticated("consent:read"),
  request: {
    params: IdentifierPath,
    query: ListConsentEventsQuery,
  },
  responses: { 200: jsonAnswer("One page of events and the total count", ConsentEventList), ...readRefusals },
});

const requestDoubleOptInRoute = createRoute({
  operationId: "requestDoubleOptIn",
  method: "post",
  path: "/v1/consent/double-opt-in",
  tags: ["consent"],
  summary: "Starts a double opt-in: records the request and answers signed links for the confirmation email",
  description:
    "Records DOUBLE_OPT_IN_REQUESTED (which grants nothing). The person confirms by opening opt_in_url and pressing its button, " +
    "which records DOUBLE_OPT_IN; opt_out_url records OPT_OUT.",
  ...authenticated("consent:write", ...jsonBody, idempotent("requestDoubleOptIn")),
  request: { ...jsonRequest(DoubleOptInRequestBody), headers: IdempotencyHeaders.extend(PreferReceipt.shape) },
  responses: { 201: jsonAnswer("The request event and its links (with Prefer: return=receipt, the event's receipt too)", DoubleOptInLinks.extend(ReceiptField)), ...writeRefusals },
});

const listOrganizationEventsRoute = createRoute({
  operationId: "listOrganizationEvents",
  method: "get",
  path: "/v1/events",
  tags: ["consent"],
  summary: "Lists the organization's consent events across identifiers, in the order they landed in the feed",
  description:
    "Reads the organization's feed (D1), filtered by topic, type and time, paginated by cursor. " +
    "It trails publishes by the feed's pipeline (normally a second or two); one identifier's history is always current in listConsentEvents. " +
    "Every event is listed at least once, each identifier's in its own order; an event that lands late still comes after any cursor handed out before.",
  ...authenticated("consent:read"),
  request: { query: OrganizationEventsQuery, headers: BookmarkHeaders },
  responses: { 200: { ...jsonAnswer("One page of events", OrganizationEventPage), headers: bookmarkAnswered }, ...readRefusals },
});

const listAudienceRoute = createRoute({
  operationId: "listAudience",
  method: "get",
  path: "/v1/consent",
  tags: ["consent"],
  summary: "The organization's identifiers with a status on a topic: an e-mail audience",
  description:
    "From the feed (D1), so it trails publishes by the feed's pipeline (normally a second or two; README \"Audience\"). " +
    "Identifiers in order, paginated by cursor. A grant past the topic's lifespan (ORGANIZATIONS) is not granted.",
  ...authenticated("consent:read"),
  request: { query: AudienceQuery, headers: BookmarkHeaders },
  responses: { 200: { ...jsonAnswer("One page of identifiers", AudiencePage), headers: bookmarkAnswered }, ...readRefusals },
});

const createPreferencesLinkRoute = createRoute({
  operationId: "createPreferencesLink",
  method: "post",
  path: "/v1/consent/{identifier}/preferences-link",
  tags: ["consent"],
  summary: "A signed link to the person's preference page, e.g. for a newsletter footer",
  description:
    "Signs a link (PREFERENCES_LINK_TTL_DAYS long) to the page where the person sees and changes every topic of the organization and of their history. " +
    "Records nothing. An identifier without history in the organization is refused (404): the link names only its history, never the identifier.",
  ...authenticated("consent:write"),
  request: { params: IdentifierPath, query: PreferencesLinkQuery },
  responses: {
    200: jsonAnswer("The link and when it stops working", PreferencesLink),
    ...readRefusals,
    404: { ...readRefusals[400]!, description: "The identifier has no history in the organization" },
  },
});

/** The epilot Consent API: errors are RFC 9457 problem details. */
export const epilotApi = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .onError(answerAsProblem)
  .openapi(publishConsentEvent, async (c) => {
    const { identifier, ...event } = c.req.valid("json");
    const recorded = await recordEvent(c.env, c.executionCtx, c.var.principal, identifier, { ...event, ...requestRecording(c) });
    return c.json(await withReceipt(c, recorded, recorded), 201);
  })
  .openapi(requestDoubleOptInRoute, async (c) => {
    const links = await requestDoubleOptIn(c.env, c.executionCtx, c.var.principal, c.req.valid("json"), requestRecording(c), new URL(c.req.url).origin);
    return c.json(await withReceipt(c, links, links.event), 201);
  })
  .openapi(createPreferencesLinkRoute, async (c) =>
    c.json(await createPreferencesLink(c.env, c.var.principal, c.req.valid("param").identifier, new URL(c.req.url).origin, c.req.valid("query").lang), 200),
  )
  .openapi(listOrganizationEventsRoute, async (c) => c.json(await inSession(c, (db) => listOrganizationEvents(db, c.var.principal, c.req.valid("query"))), 200))
  .openapi(listAudienceRoute, async (c) => c.json(await inSession(c, (db) => listAudience(c.env, db, c.var.principal, c.req.valid("query"))), 200))
  .openapi(listConsentEvents, async (c) => {
    const { identifier } = c.req.valid("param");
    const { topic, limit, from, cursor } = c.req.valid("query");
    return c.json(await listEvents(c.env, c.var.principal, identifier, { topic, limit, offset: from, before: cursor }), 200);
  });
