/**
 * The consent event: one schema for every layer. It validates what callers send, types the code
 * from the HTTP routes down to storage, and documents the API (OpenAPI). It sits below every layer
 * because the identifier's ledger stores and answers exactly this shape.
 */
import { z } from "@hono/zod-openapi";

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
export const cleanText = (schema: z.ZodString) =>
  schema.superRefine((text, ctx) => {
    if (!text.isWellFormed()) {
      ctx.addIssue({ code: "custom", message: "must be well-formed Unicode (it has a lone surrogate)", params: { code: "invalid_unicode" } });
    } else if (CONTROL_CHARACTER.test(text)) {
      ctx.addIssue({ code: "custom", message: "must not contain control characters", params: { code: "control_character" } });
    }
  });

export const ConsentIdentifier = cleanText(z.string().trim().min(1).max(320)).openapi("ConsentIdentifier", {
  description:
    "Unique identifier for consent source (e.g. customer email or phone). Unicode NFC, then trimmed; an e-mail address " +
    "(one @) is compared with its local part and domain lower-cased (an internationalised domain in its ASCII form); " +
    "a phone number (+ and only digits and separators) becomes + and its digits; anything else is kept exactly. " +
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

/** A JSON value, as it crosses to and from the ledgers (RPC types need it spelled out). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Evidence, kept exactly as sent: a custom schema passes the parsed object through untouched
 * (a zod record would rebuild it and lose an own `__proto__` key). The body's JSON was already
 * checked for duplicate keys, unrepresentable numbers and lone surrogates (http/strict-json.ts).
 */
export const ConsentMeta = z
  .custom<JsonObject>(isJsonObject, { params: { expected: "object" } })
  .superRefine((meta, ctx) => {
    // The notice the person was shown goes into receipts and the rules of state: it must say what it is.
    if ("notice_version" in meta && (typeof meta.notice_version !== "string" || meta.notice_version.length === 0 || meta.notice_version.length > 200)) {
      ctx.addIssue({ code: "custom", path: ["notice_version"], message: "must be a string of 1 to 200 characters", params: { code: "invalid_type" } });
    }
    if ("notice_text_sha256" in meta && (typeof meta.notice_text_sha256 !== "string" || !/^[0-9a-f]{64}$/i.test(meta.notice_text_sha256))) {
      ctx.addIssue({ code: "custom", path: ["notice_text_sha256"], message: "must be 64 hex characters (the SHA-256 of the notice's text)", params: { code: "invalid_format" } });
    }
    if (nestedDeeperThan(meta, META_MAX_DEPTH)) {
      ctx.addIssue({ code: "custom", message: `must be nested at most ${META_MAX_DEPTH} levels deep`, params: { code: "too_deep" } });
    } else if (new TextEncoder().encode(JSON.stringify(meta)).length > META_MAX_BYTES) {
      ctx.addIssue({ code: "custom", message: `must be at most ${META_MAX_BYTES} bytes as JSON`, params: { code: "too_big" } });
    }
  })
  .openapi("ConsentMeta", {
    type: "object",
    additionalProperties: {},
    description:
      `Any JSON object, stored exactly as sent: at most ${META_MAX_BYTES} bytes serialised and ${META_MAX_DEPTH} levels deep. ` +
      "notice_version (a string) and notice_text_sha256 (64 hex characters), when sent, name the privacy notice the person was shown (State, Receipts).",
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

const Hash = z.string().regex(/^[0-9a-f]{64}$/);

/** How an event was recorded, outside the caller's meta: kept with the event as evidence. */
export const EventProof = z
  .object({
    recorded_by: z.string().optional().openapi({ description: "The API client id or the JWT subject that recorded it (absent for a person's own link)" }),
    request_id: z.string().optional().openapi({ description: "The X-Request-Id of the request that recorded it" }),
    client_ip: z.string().optional().openapi({ description: "The caller's IP (CF-Connecting-IP)" }),
    follows_erasure: z
      .literal(true)
      .optional()
      .openapi({ description: "On the first event of a history recorded after the identifier's history was erased (DELETE /v1/consent/{identifier}): a new chain starts here" }),
  })
  .openapi("EventProof");
export type EventProof = z.infer<typeof EventProof>;

export const ConsentEvent = z
  .object({
    type: z.enum(EVENT_TYPES),
    created_at: z.string().openapi({ format: "date-time" }),
    occurred_at: z.string().optional().openapi({
      format: "date-time",
      description: "When the event happened by its sender's clock (a Copilot Collect event's timestamp), beside the gateway's created_at; absent when the sender did not say",
    }),
    topic: ConsentTopic,
    source: ConsentSource.optional(),
    organization_id: OrganizationId,
    identifier: ConsentIdentifier,
    meta: ConsentMeta.optional(),
    seq: z.number().int().min(1).optional().openapi({ description: "The event's gapless place in the identifier's history, from 1" }),
    prev_hash: Hash.nullable().optional().openapi({ description: "The previous event's hash (null for the first)" }),
    hash: Hash.optional().openapi({ description: "Hex SHA-256 over the RFC 8785 canonical form of the event's chained fields and prev_hash (README \"Tamper-evident history\")" }),
    proof: EventProof.optional(),
  })
  .openapi("ConsentEvent", { example: SEED_EVENT });
export type ConsentEvent = z.infer<typeof ConsentEvent>;

/**
 * What a caller asks to append: the event without what the gateway assigns, how it was recorded,
 * and the idempotency record that keeps the request's answer (erased with the history).
 */
export type EventInput = Pick<ConsentEvent, "type" | "topic" | "source" | "meta" | "proof" | "occurred_at"> & { idempotencyRecord?: string | undefined };

/** How a request records its events: its proof, and the idempotency record keeping its answer, if any. */
export type Recording = { proof: EventProof; idempotencyRecord?: string | undefined };
