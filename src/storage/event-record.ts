import type { ConsentEvent, EventType, JsonObject } from "../consent-event";

/** Whose history a ledger holds. */
export interface LedgerKey {
  organizationId: string;
  identifier: string;
}

/** An event as both stores keep it: one row, meta as JSON text (the object that was sent, serialised once). */
export type EventRecord = {
  sequence: number;
  type: string;
  topic: string;
  source: string | null;
  meta: string | null;
  createdAt: string;
};

/** An event on its way to the D1 index: its row, and the ledger (Durable Object id) that holds it. */
export type IndexEntry = LedgerKey & EventRecord & { ledger: string };

/**
 * An appended event in the API's shape, from its index entry and the caller's own meta object:
 * meta crosses from the ledger once, as text in the entry, and is never parsed back.
 */
export function appendedEvent(entry: IndexEntry, meta: JsonObject | undefined): ConsentEvent {
  return { ...toConsentEvent(entry, { ...entry, meta: null }), ...(meta === undefined ? {} : { meta }) };
}

/** The one mapping from a stored row to the API's event, for the ledger and the D1 index alike. */
export function toConsentEvent(owner: LedgerKey, record: EventRecord): ConsentEvent {
  return {
    type: record.type as EventType,
    created_at: record.createdAt,
    topic: record.topic,
    ...(record.source === null ? {} : { source: record.source }),
    organization_id: owner.organizationId,
    identifier: owner.identifier,
    ...(record.meta === null ? {} : { meta: JSON.parse(record.meta) as JsonObject }),
  };
}
