import type { EventRecord, LedgerKey } from "../event-record";

/**
 * Ledgers before identifier rules v2 were named by the JSON pair of the organization and the
 * identifier as those rules spelled it, which put personal data in every object's name. A ledger
 * named by the keyed hash adopts the old ledger its caller's spelling had, on first access
 * (LEGACY_LEDGERS=adopt); the old one then only forwards (old links, late acknowledgements, an
 * older worker's calls) to its successor.
 */
export const legacyLedgerName = (key: LedgerKey) => JSON.stringify([key.organizationId, key.identifier]);

/** Where a moved ledger's history now lives (a Durable Object id). */
export const MOVED_TO_KEY = "moved_to";

/** What an old ledger hands to its successor. */
export interface HandOver {
  records: EventRecord[];
  fedThrough: number;
}
