import { z } from "@hono/zod-openapi";
import { cleanText, ConsentEvent, ConsentIdentifier, ConsentMeta, ConsentSource, ConsentTopic, EVENT_TYPES, SEED_EVENT, SEED_EVENT_REQUEST } from "../consent-event";
import { base64url } from "jose";
import { LANGUAGES } from "../languages";
import type { FeedCursor } from "../storage/feed/reader";

/** The API's requests and answers around the consent event (src/consent-event.ts). */
export const ConsentEventRequestBody = z
  .object({
    type: z.enum(["OPT_IN", "OPT_OUT"]),
    topic: ConsentTopic,
    source: ConsentSource.optional(),
    identifier: ConsentIdentifier,
    meta: ConsentMeta.optional(),
  })
  .openapi("ConsentEventRequestBody", { example: SEED_EVENT_REQUEST });
export type ConsentEventRequestBody = z.infer<typeof ConsentEventRequestBody>;

export const ConsentEventList = z
  .object({
    events: z.array(ConsentEvent),
    total: z.number().int().min(0),
    next_cursor: z.string().optional().openapi({
      description: "Present when older events follow: pass it as cursor for the next page, which then never overlaps this one, whatever is appended meanwhile",
    }),
  })
  .openapi("ConsentEventList", { example: { events: [SEED_EVENT], total: 1 } });

/** A history page's position (the oldest sequence it listed) as an opaque cursor. */
export const encodeHistoryCursor = (sequence: number) => base64url.encode(`s${sequence}`);

/** The text inside an opaque cursor, if it is one (base64url of short ASCII). */
function cursorText(cursor: string): string | undefined {
  try {
    return new TextDecoder().decode(base64url.decode(cursor));
  } catch {
    return undefined;
  }
}

/** An opaque cursor this API handed out, as `decode` reads its text; anything else is refused as invalid_cursor. */
function opaqueCursor<T>(name: string, decode: (text: string) => T | undefined, description: string) {
  return z
    .string()
    .transform((cursor, ctx): T => {
      const text = cursorText(cursor);
      const decoded = text === undefined ? undefined : decode(text);
      if (decoded !== undefined) return decoded;
      ctx.addIssue({ code: "custom", message: "is not a cursor this API returned", params: { code: "invalid_cursor" } });
      return z.NEVER;
    })
    .optional()
    .openapi({ param: { name, in: "query" }, type: "string", description });
}

/** The number in a cursor's text `<prefix><digits>`. */
const numberAfter = (prefix: string, text: string) => {
  const match = /^([a-z])(\d{1,15})$/.exec(text);
  return match && match[1] === prefix ? Number(match[2]) : undefined;
};

/** An integer query parameter; its bounds are spelled out for OpenAPI, which does not see through coercion. */
function queryInteger(name: string, { min, max, fallback }: { min: number; max?: number; fallback: number }) {
  const bounded = z.coerce.number().int().min(min);
  return (max === undefined ? bounded : bounded.max(max)).default(fallback).openapi({
    param: { name, in: "query" },
    type: "integer",
    minimum: min,
    ...(max === undefined ? {} : { maximum: max }),
    default: fallback,
    example: fallback,
  });
}

/** The identifier as a path parameter. */
export const IdentifierPath = z.object({ identifier: ConsentIdentifier.openapi({ param: { name: "identifier", in: "path" } }) });

export const ListConsentEventsQuery = z.object({
  topic: ConsentTopic.optional().openapi({ param: { name: "topic", in: "query" } }),
  limit: queryInteger("limit", { min: 1, max: 100, fallback: 50 }),
  from: queryInteger("from", { min: 0, fallback: 0 }),
  cursor: opaqueCursor(
    "cursor",
    (text) => numberAfter("s", text),
    "next_cursor of the previous page: only events older than that page's, so pages never overlap (from then skips within them)",
  ),
});
export type ListConsentEventsQuery = z.infer<typeof ListConsentEventsQuery>;

export const DoubleOptInRequestBody = z
  .object({
    topic: ConsentTopic,
    identifier: ConsentIdentifier,
    source: ConsentSource.optional(),
    meta: ConsentMeta.optional(),
    lang: z.enum(LANGUAGES).optional().openapi({ description: "Language of the confirmation page (added to the links)" }),
    redirect_url: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional()
      .openapi({ description: "Offered after confirming; must be on one of the organization's configured redirect origins" }),
  })
  .openapi("DoubleOptInRequestBody", {
    example: { topic: "EMAIL_MARKETING", identifier: "exampleuser@epilot.cloud", source: "newsletter-form", lang: "de" },
  });

export const DoubleOptInLinks = z
  .object({
    event: ConsentEvent,
    opt_in_url: z.url().openapi({ description: "Signed link for the confirmation email" }),
    opt_out_url: z.url().openapi({ description: "Signed unsubscribe link (RFC 8058 one-click capable)" }),
    expires_at: z.string().openapi({ format: "date-time", description: "When opt_in_url stops working" }),
    preferences_url: z.url().openapi({ description: "Signed link to the person's preference page (every topic; PREFERENCES_LINK_TTL_DAYS long)" }),
  })
  .openapi("DoubleOptInLinks");

export const PreferencesLink = z
  .object({
    preferences_url: z.url().openapi({ description: "Signed link to the person's preference page, e.g. for a newsletter footer" }),
    expires_at: z.string().openapi({ format: "date-time", description: "When it stops working (PREFERENCES_LINK_TTL_DAYS)" }),
  })
  .openapi("PreferencesLink");

export const PreferencesLinkQuery = z.object({
  lang: z.enum(LANGUAGES).optional().openapi({ param: { name: "lang", in: "query" }, description: "Language of the page (added to the link)", example: "de" }),
});

/** A form field that may be sent once, many times or not at all, as the list of its values. */
const formTopics = (description: string) =>
  z
    .union([ConsentTopic, z.array(ConsentTopic).max(1000)])
    .optional()
    .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]))
    .openapi({ description });

/** What the preference page's form sends (application/x-www-form-urlencoded). */
export const PreferencesForm = z
  .object({
    action: z
      .enum(["save", "unsubscribe_all"])
      .default("save")
      .openapi({ description: "save: record what changed; unsubscribe_all: opt out of every topic" }),
    shown: formTopics("Every topic the page showed (a hidden field each): only these are changed by save"),
    granted: formTopics("The topics ticked (a checkbox each): granted on save; a shown topic not ticked is withdrawn if it was granted"),
  })
  .openapi("PreferencesForm");

/** Where a poller stands in its organization's feed, as an opaque cursor (`p…`: a global position, handed out before migration 0004). */
export const encodeFeedCursor = (cursor: FeedCursor) =>
  base64url.encode("feedPosition" in cursor ? `f${cursor.feedPosition}` : `p${cursor.position}`);

const FeedCursorParam = opaqueCursor(
  "cursor",
  (text): FeedCursor | undefined => {
    const feedPosition = numberAfter("f", text);
    if (feedPosition !== undefined) return { feedPosition };
    const position = numberAfter("p", text);
    return position === undefined ? undefined : { position };
  },
  "next_cursor of the previous page",
);

/** The instants the feed can be asked about; stored times are ISO 8601 UTC with four-digit years. */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A time bound, answered as the instant it names (offsets resolved), so bounds compare as times. */
const instant = (name: string, description: string) =>
  z.iso
    .datetime({ offset: true })
    .transform((text, ctx) => {
      const time = Date.parse(text);
      if (!(time >= EARLIEST && time <= LATEST)) {
        ctx.addIssue({ code: "custom", message: "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z", params: { code: "out_of_range" } });
        return z.NEVER;
      }
      return new Date(time);
    })
    .optional()
    .openapi({ param: { name, in: "query" }, type: "string", format: "date-time", description, example: "2026-01-01T00:00:00.000Z" });

export const OrganizationEventsQuery = z
  .object({
    topic: ConsentTopic.optional().openapi({ param: { name: "topic", in: "query" } }),
    type: z.enum(EVENT_TYPES).optional().openapi({ param: { name: "type", in: "query" } }),
    since: instant("since", "Only events created at or after this instant"),
    until: instant("until", "Only events created before this instant"),
    limit: queryInteger("limit", { min: 1, max: 500, fallback: 100 }),
    cursor: FeedCursorParam,
  })
  .superRefine(({ since, until }, ctx) => {
    if (since && until && until <= since) {
      ctx.addIssue({ code: "custom", path: ["until"], message: "must be later than since", params: { code: "empty_range" } });
    }
  });
export type OrganizationEventsQuery = z.infer<typeof OrganizationEventsQuery>;

export const OrganizationEventPage = z
  .object({
    events: z.array(ConsentEvent),
    next_cursor: z.string().nullable().openapi({
      description: "Where to resume: pass it as cursor for the next page, and keep polling with it after the last one (null only when nothing was listed yet)",
    }),
    has_more: z.boolean().openapi({ description: "Whether more events follow now (false on the last page)" }),
  })
  .openapi("OrganizationEventPage");

export const ChainVerification = z
  .object({
    intact: z.boolean().openapi({ description: "Whether every event of the ledger and of the feed's copy holds" }),
    length: z.number().int().min(0).openapi({ description: "How many events the ledger holds" }),
    head: z.string().optional().openapi({ description: "The newest event's hash, when intact and not empty" }),
    first_broken_seq: z.number().int().min(1).optional().openapi({ description: "The first event that does not hold" }),
    store: z.enum(["ledger", "d1"]).optional().openapi({ description: "Where that event is: the identifier's ledger, or the feed's copy in D1" }),
  })
  .openapi("ChainVerification", { example: { intact: true, length: 3, head: "9f2c…" } });

export const ConsentReceipt = z
  .object({
    receipt: z.string().openapi({ description: "A compact JWS (EdDSA or ES256, kid in its header) over the event's consent record; verify it with /.well-known/jwks.json" }),
  })
  .openapi("ConsentReceipt");

export const ConsentStateQuery = z.object({
  topic: ConsentTopic.optional().openapi({ param: { name: "topic", in: "query" }, description: "Only this topic (answered even if the history has no event on it)" }),
  at: instant("at", "The instant to answer for (default: now); an ISO 8601 instant with an offset. May lie in the future: the status then, if nothing more is recorded"),
});

const DecidedBy = z
  .union([
    z.object({ seq: z.number().int().min(1), type: z.enum(EVENT_TYPES), hash: z.string() }),
    z.object({ rule: z.literal("default_allowed") }),
  ])
  .openapi("DecidedBy", { description: "The event that decides the status (the latest on the topic up to the instant asked), or the rule that does when no event does" });

export const ConsentState = z
  .object({
    identifier: ConsentIdentifier,
    at: z.string().openapi({ format: "date-time" }),
    topics: z.array(
      z.object({
        topic: ConsentTopic,
        status: z.enum(["granted", "pending", "withdrawn", "expired", "none"]),
        since: z.string().optional().openapi({ format: "date-time", description: "When the deciding event was recorded" }),
        decided_by: DecidedBy.optional(),
        notice_outdated: z.literal(true).optional().openapi({ description: "The grant was given under another notice version than the topic's current one (ORGANIZATIONS)" }),
      }),
    ),
    erased: z.literal(true).optional().openapi({
      description: "The history was erased (eraseConsentHistory) and nothing was recorded since, up to the instant asked: there is no status to answer, and topics is empty",
    }),
    erased_at: z.string().optional().openapi({ format: "date-time", description: "When it was erased (with erased)" }),
  })
  .openapi("ConsentState", {
    example: {
      identifier: "exampleuser@epilot.cloud",
      at: "2026-12-01T10:00:00.000Z",
      topics: [{ topic: "EMAIL_MARKETING", status: "granted", since: "2026-11-02T09:15:02.117Z", decided_by: { seq: 3, type: "DOUBLE_OPT_IN", hash: "5b1e…" } }],
    },
  });

export const ConsentExport = z
  .object({
    exported_at: z.string().openapi({ format: "date-time" }),
    organization_id: z.string(),
    identifier: ConsentIdentifier,
    identifier_hash: z.string().openapi({ description: "The identifier's keyed hash: the receipts' pii_principal_id and the chain's owner" }),
    state: ConsentState,
    events: z
      .array(
        ConsentEvent.extend({
          receipt: z.string().optional().openapi({ description: "The event's signed receipt (as getConsentReceipt answers it); absent for an event stored before the chain" }),
        }),
      )
      .openapi({ description: "The whole history, oldest first, with proof fields and chain hashes" }),
  })
  .openapi("ConsentExport", { description: "Everything the gateway holds about one identifier in the organization (GDPR Art. 15 and 20)" });
export type ConsentExport = z.infer<typeof ConsentExport>;

/** An audience page's position (the last identifier it listed) as an opaque cursor. */
export const encodeAudienceCursor = (identifier: string) => base64url.encode(`a${identifier}`);

export const AudienceQuery = z.object({
  topic: ConsentTopic.openapi({ param: { name: "topic", in: "query" } }),
  status: z
    .enum(["granted", "pending", "withdrawn"])
    .default("granted")
    .openapi({ param: { name: "status", in: "query" }, description: "The status on the topic (default granted; a grant past the topic's lifespan is not granted)" }),
  limit: queryInteger("limit", { min: 1, max: 1000, fallback: 100 }),
  cursor: opaqueCursor("cursor", (text) => (text.startsWith("a") && text.length > 1 ? text.slice(1) : undefined), "next_cursor of the previous page"),
});
export type AudienceQuery = z.infer<typeof AudienceQuery>;

export const AudiencePage = z
  .object({
    identifiers: z.array(z.object({ identifier: ConsentIdentifier, since: z.string().openapi({ format: "date-time", description: "When the deciding event was recorded" }) })),
    next_cursor: z.string().nullable().openapi({ description: "Pass it as cursor for the next page (null on the last one)" }),
    has_more: z.boolean(),
  })
  .openapi("AudiencePage", {
    example: { identifiers: [{ identifier: "exampleuser@epilot.cloud", since: "2026-11-02T09:15:02.117Z" }], next_cursor: null, has_more: false },
  });

/** A published receipt key: the public part of a signing key, never `d`. */
export const ReceiptKey = z
  .object({
    kty: z.enum(["OKP", "EC"]),
    crv: z.enum(["Ed25519", "P-256"]),
    x: z.string(),
    y: z.string().optional().openapi({ description: "P-256 keys only" }),
    kid: z.string().openapi({ description: "The kid in the protected header of the receipts it signs" }),
    alg: z.enum(["EdDSA", "ES256"]),
    use: z.literal("sig"),
  })
  .openapi("ReceiptKey", { description: "A public key that signs, or signed, consent receipts (JWK, RFC 7517)" });

export const ReceiptKeySet = z.object({ keys: z.array(ReceiptKey) }).openapi("ReceiptKeySet");
export type PublicReceiptKey = z.infer<typeof ReceiptKey>;

export const ErasureRequestBody = z
  .object({
    reason: cleanText(z.string().min(1).max(500)).openapi({
      description: "Why the history is erased (kept with the erasure's record, for the company's proof): e.g. the data subject's request and its ticket. Do not put personal data in it",
      example: "GDPR Art. 17 request, ticket 4711",
    }),
  })
  .strict()
  .openapi("ErasureRequest");

export const ErasureAnswer = z
  .object({
    erased_at: z.string().openapi({ format: "date-time" }),
    erased_by: z.string().openapi({ description: "The API client id or JWT subject that erased it" }),
    reason: z.string(),
    stub: z
      .object({
        identifier_hash: z.string().openapi({ description: "The identifier's keyed hash (HMAC-SHA256 under IDENTIFIER_KEY): what the stub is known by, never the identifier" }),
        events: z.array(
          z.object({
            seq: z.number().int().min(1),
            type: z.enum(EVENT_TYPES),
            topic: ConsentTopic,
            created_at: z.string().openapi({ format: "date-time" }),
            hash: z.string().nullable().openapi({ description: "The event's link in the erased chain" }),
          }),
        ),
      })
      .openapi({ description: "What is kept of the erased history: no identifier, meta, source or IP; the chain's links and the keyed commitments stay in the ledger" }),
  })
  .openapi("ConsentErasure", {
    example: {
      erased_at: "2026-12-01T10:00:00.000Z",
      erased_by: "crm",
      reason: "GDPR Art. 17 request, ticket 4711",
      stub: { identifier_hash: "9c1f…", events: [{ seq: 1, type: "OPT_IN", topic: "EMAIL_MARKETING", created_at: "2026-11-02T09:15:02.117Z", hash: "5b1e…" }] },
    },
  });
export type ErasureAnswer = z.infer<typeof ErasureAnswer>;

/** One reason a request (or an imported line) was refused, as problem details and import results list it (http/api-error.ts FieldError). */
export const FieldErrorSchema = z.object({
  location: z.enum(["body", "query", "path", "header"]),
  path: z.string().openapi({ example: "identifier" }),
  code: z.string().openapi({ example: "required" }),
  message: z.string().openapi({ example: "is required" }),
  expected: z.string().optional(),
});

/** A bulk import takes at most this many events a request (README "Bulk import"). */
export const IMPORT_MAX_EVENTS = 1000;

/** When an imported event happened, by the clock of the system it comes from: kept as sent. */
const OccurredAt = z.iso
  .datetime({ offset: true })
  .superRefine((text, ctx) => {
    const time = Date.parse(text);
    if (time > Date.now()) ctx.addIssue({ code: "custom", message: "must not be in the future", params: { code: "too_big" } });
    else if (!(time >= EARLIEST)) ctx.addIssue({ code: "custom", message: "must not be before 1970-01-01T00:00:00Z", params: { code: "out_of_range" } });
  })
  .openapi({ format: "date-time", description: "When the event happened (ISO 8601 with an offset, not in the future); kept as sent, as the event's occurred_at", example: "2024-03-01T09:30:00+01:00" });

/**
 * One event of a bulk import: a publish body (same fields, same rules, OPT_IN or OPT_OUT only) with
 * the sender's id for it and when it happened.
 */
export const ImportedConsentEvent = ConsentEventRequestBody.extend({
  event_id: cleanText(z.string().min(1).max(200)).openapi({
    description: "The sender's unique id of the event: importing it again for the same identifier records nothing (answered duplicate)",
    example: "crm-export-2024-000001",
  }),
  occurred_at: OccurredAt,
}).openapi("ImportedConsentEvent", {
  example: { event_id: "crm-export-2024-000001", ...SEED_EVENT_REQUEST, occurred_at: "2024-03-01T09:30:00+01:00" },
});
export type ImportedConsentEvent = z.infer<typeof ImportedConsentEvent>;

export const ImportLineResult = z
  .object({
    line: z.number().int().min(1).openapi({ description: "The event's line in the NDJSON body (blank lines counted), or its place in the JSON array, from 1" }),
    event_id: z.string().optional().openapi({ description: "The line's event_id, when it has one that is a string" }),
    status: z.enum(["stored", "duplicate", "refused"]),
    seq: z.number().int().min(1).optional().openapi({ description: "Stored: the event's place in the identifier's history" }),
    errors: z.array(FieldErrorSchema).optional().openapi({ description: "Refused: each field and what is wrong, with the codes publish answers (paths inside the event)" }),
  })
  .openapi("ImportLineResult");
export type ImportOutcomeLine = z.infer<typeof ImportLineResult>;

export const ImportResult = z
  .object({
    stored: z.number().int().min(0),
    duplicates: z.number().int().min(0),
    refused: z.number().int().min(0),
    results: z.array(ImportLineResult).openapi({ description: "One per event, in request order" }),
  })
  .openapi("ImportResult", {
    example: { stored: 1, duplicates: 1, refused: 1, results: [
      { line: 1, event_id: "crm-1", status: "stored", seq: 1 },
      { line: 2, event_id: "crm-2", status: "duplicate" },
      { line: 3, event_id: "crm-3", status: "refused", errors: [{ location: "body", path: "type", code: "invalid_value", message: 'Invalid option: expected one of "OPT_IN"|"OPT_OUT"' }] },
    ] },
  });
export type ImportResult = z.infer<typeof ImportResult>;
