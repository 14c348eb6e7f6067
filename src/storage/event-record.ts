import type { ConsentEvent, EventProof, EventType, JsonObject } from "../consent-event";

/** Whose history a ledger holds: the organization and the normalised identifier. */
export interface LedgerKey {
  organizationId: string;
  identifier: string;
}

/**
 * What a caller asks a ledger to append, as it crosses RPC: meta is JSON text (serialised once by
 * the caller, stored as is), so the ledger's RPC types stay plain.
 */
export interface EventText {
  type: EventType;
  topic: string;
  source: string | null;
  meta: string | null;
  proof: EventProof | null;
  /** When it happened by the sender's clock (ISO 8601); absent or null when the sender did not say. */
  occurredAt?: string | null;
  /** The idempotency record (Durable Object id) that keeps the answer of the request recording it: an erasure makes it forget. */
  idempotencyRecord?: string | null;
}

/** An event as both stores keep it: one row, meta, commitments and proof as JSON text. */
export type EventRecord = {
  sequence: number;
  type: string;
  topic: string;
  source: string | null;
  meta: string | null;
  createdAt: string;
  /** When it happened by the sender's clock (ISO 8601; a Copilot Collect event's timestamp), beside the gateway's createdAt; null when not said. */
  occurredAt: string | null;
  /** Its link in the history's chain (null only for an event stored before the chain, until migrated). */
  hash: string | null;
  prevHash: string | null;
  /** The keyed commitments to its personal fields (src/chain.ts), JSON. */
  commitments: string | null;
  /** How it was recorded (EventProof), JSON. */
  proof: string | null;
};

/** An event on its way to the feed (D1): its row, whose it is, and the ledger (Durable Object id) that holds it. */
export type FeedEntry = LedgerKey &
  EventRecord & {
    identifierHash: string;
    ledger: string;
    /** The generation of the history it belongs to (erasure.ts); absent in messages sent before erasures existed: 1. */
    generation?: number;
  };

/** An event's text form for a ledger, from the API's shape. */
export const eventText = (event: {
  type: EventType;
  topic: string;
  source?: string | undefined;
  meta?: JsonObject | undefined;
  proof?: EventProof | undefined;
  occurred_at?: string | undefined;
  idempotencyRecord?: string | undefined;
}): EventText => ({
  type: event.type,
  topic: event.topic,
  source: event.source ?? null,
  meta: event.meta === undefined ? null : JSON.stringify(event.meta),
  proof: event.proof ?? null,
  occurredAt: event.occurred_at ?? null,
  idempotencyRecord: event.idempotencyRecord ?? null,
});

/**
 * An appended event in the API's shape, from its feed entry and the caller's own meta object:
 * meta crosses from the ledger once, as text in the entry, and is never parsed back.
 */
export function appendedEvent(entry: FeedEntry, meta: JsonObject | undefined): ConsentEvent {
  return { ...toConsentEvent(entry, { ...entry, meta: null }), ...(meta === undefined ? {} : { meta }) };
}

/** The one mapping from a stored row to the API's event, for the ledger and the feed alike. */
export function toConsentEvent(owner: LedgerKey, record: EventRecord): ConsentEvent {
  return {
    type: record.type as EventType,
    created_at: record.createdAt,
    ...(record.occurredAt === null ? {} : { occurred_at: record.occurredAt }),
    topic: record.topic,
    ...(record.source === null ? {} : { source: record.source }),
    organization_id: owner.organizationId,
    identifier: owner.identifier,
    ...(record.meta === null ? {} : { meta: JSON.parse(record.meta) as JsonObject }),
    seq: record.sequence,
    ...(record.hash === null ? {} : { prev_hash: record.prevHash, hash: record.hash }),
    ...(record.proof === null ? {} : { proof: JSON.parse(record.proof) as EventProof }),
  };
}
