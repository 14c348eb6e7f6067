import { z } from "@hono/zod-openapi";
import { LANGUAGES } from "../languages";

/** Every event type a history can hold; publish accepts only the first two. */
export const EVENT_TYPES = ["OPT_IN", "OPT_OUT", "DOUBLE_OPT_IN_REQUESTED", "DOUBLE_OPT_IN"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const META_MAX_BYTES = 32 * 1024;
export const META_MAX_DEPTH = 10;

/** Whether a JSON value nests objects or arrays deeper than `limit` (a flat object is 1); iterative, so any depth is safe. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== "object") continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * A name for a person, topic or system: well-formed Unicode (a lone surrogate would be stored
 * differently by each store it reaches) and no control characters.
 */
const cleanText = (schema: z.ZodString) =>
  schema.superRefine((text, ctx) => {
    if (!text.isWellFormed()) {
      ctx.addIssue({ code: "custom", message: "must be well-formed Unicode (it has a lone surrogate)", params: { code: "invalid_unicode" } });
    } else if (CONTROL_CHARACTER.test(text)) {
      ctx.addIssue({ code: "custom", message: "must not contain control characters", params: { code: "control_character" } });
    }
  });

export const ConsentIdentifier = cleanText(z.string().trim().min(1).max(320)).openapi("ConsentIdentifier", {
  description:
    "Unique identifier for consent source (e.g. customer email or phone). Trimmed; e-mail addresses are " +
    "compared case-insensitively; phone numbers starting with + lose spaces, dashes and brackets. " +
    "Well-formed Unicode without control characters.",
  example: "exampleuser@epilot.cloud",
});

export const ConsentTopic = cleanText(z.string().min(1).max(200)).openapi("ConsentTopic", {
  description: "Consent Topic (what the person is opting into)",
  example: "EMAIL_MARKETING",
});

export const ConsentSource = cleanText(z.string().min(1).max(200)).openapi("ConsentSource", {
  description: "Consent Source (Origin of the Consent Event)",
  example: "www.frontend.epilot.cloud",
});

const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Evidence, kept exactly as sent: a custom schema passes the parsed object through untouched
 * (a zod record would rebuild it and lose an own `__proto__` key). The body's JSON was already
 * checked for duplicate keys, unrepresentable numbers and lone surrogates (http/strict-json.ts).
 */
export const ConsentMeta = z
  .custom<Record<string, unknown>>(isJsonObject, { params: { expected: "object" } })
  .superRefine((meta, ctx) => {
    if (nestedDeeperThan(meta, META_MAX_DEPTH)) {
      ctx.addIssue({ code: "custom", message: `must be nested at most ${META_MAX_DEPTH} levels deep`, params: { code: "too_deep" } });
    } else if (new TextEncoder().encode(JSON.stringify(meta)).length > META_MAX_BYTES) {
      ctx.addIssue({ code: "custom", message: `must be at most ${META_MAX_BYTES} bytes as JSON`, params: { code: "too_big" } });
    }
  })
  .openapi("ConsentMeta", {
    type: "object",
    additionalProperties: {},
    description: `Any JSON object, stored exactly as sent: at most ${META_MAX_BYTES} bytes serialised and ${META_MAX_DEPTH} levels deep.`,
  });

export type ConsentMeta = z.infer<typeof ConsentMeta>;

export const OrganizationId = z.string().openapi("OrganizationId", { example: "123" });

const seedMeta = {
  double_opt_in: true,
  source_type: "journey",
  source_id: "0e4f2a26-14f0-4ada-9294-a7d7a0b9b214",
  ip_address: "1.1.1.1",
  user_agent:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.114 Safari/537.36",
};

/** The seed's own example (epilot Consent API docs), used in the OpenAPI document and the tests. */
export const SEED_EVENT_REQUEST = {
  type: "OPT_IN",
  topic: "EMAIL_MARKETING",
  source: "www.frontend.epilot.cloud",
  identifier: "exampleuser@epilot.cloud",
  meta: seedMeta,
} as const;

export const SEED_EVENT = {
  type: "OPT_IN",
  created_at: "1970-01-01T00:00:00.000Z",
  topic: "EMAIL_MARKETING",
  source: "www.frontend.epilot.cloud",
  organization_id: "123",
  identifier: "exampleuser@epilot.cloud",
  meta: seedMeta,
} as const;

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

export const ConsentEvent = z
  .object({
    type: z.enum(EVENT_TYPES),
    created_at: z.string().openapi({ format: "date-time" }),
    topic: ConsentTopic,
    source: ConsentSource.optional(),
    organization_id: OrganizationId,
    identifier: ConsentIdentifier,
    meta: ConsentMeta.optional(),
  })
  .openapi("ConsentEvent", { example: SEED_EVENT });
export type ConsentEvent = z.infer<typeof ConsentEvent>;

export const ConsentEventList = z
  .object({ events: z.array(ConsentEvent), total: z.number().int().min(0) })
  .openapi("ConsentEventList", { example: { events: [SEED_EVENT], total: 1 } });

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

export const ListConsentEventsQuery = z.object({
  topic: ConsentTopic.optional().openapi({ param: { name: "topic", in: "query" } }),
  limit: queryInteger("limit", { min: 1, max: 100, fallback: 50 }),
  from: queryInteger("from", { min: 0, fallback: 0 }),
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
  })
  .openapi("DoubleOptInLinks");

/** Position after the last event of a page of the organization-wide feed. */
export interface FeedCursor {
  createdAt: string;
  identifier: string;
  sequence: number;
}

const FeedCursorParam = z
  .string()
  .transform((text, ctx): FeedCursor => {
    try {
      const [createdAt, identifier, sequence] = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
      if (typeof createdAt === "string" && typeof identifier === "string" && Number.isInteger(sequence)) return { createdAt, identifier, sequence };
    } catch {}
    ctx.addIssue({ code: "custom", message: "is not a cursor this API returned" });
    return z.NEVER;
  })
  .optional()
  .openapi({ param: { name: "cursor", in: "query" }, type: "string", description: "next_cursor of the previous page" });

export function encodeFeedCursor({ createdAt, identifier, sequence }: FeedCursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify([createdAt, identifier, sequence]));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

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
    next_cursor: z.string().nullable().openapi({ description: "Pass as cursor for the next page; null on the last page" }),
  })
  .openapi("OrganizationEventPage");
