/**
 * What a ledger keeps of an erased history: a pseudonymous stub. The identifier, meta, source and
 * client IP go; the event types, topics, times, seqs, the keyed commitments to the erased values
 * and the chain's links stay, so the company can still prove what it honoured and the stub's chain
 * still verifies (src/consent/verification.ts accepts an erased value: only its commitment is left).
 */
/** Who erased a history, when and why, and which generation of it the erasure closed. */
export interface ErasureRecord {
  generation: number;
  erasedAt: string;
  erasedBy: string;
  reason: string;
  /** The idempotency records (Durable Object ids) whose kept answers named the erased events: they are made to forget. */
  idempotencyRecords: string[];
}

/** One event of a stub, as the erasure answers it. */
export type StubEvent = {
  seq: number;
  type: string;
  topic: string;
  created_at: string;
  hash: string | null;
};

/** The erasures so far, oldest first (absent: none). */
export const ERASURES_KEY = "erasures";
/**
 * The generation of the history: 1 until its first erasure, then one more per erasure. A new
 * generation starts a new chain at seq 1, and its events carry the number to the feed, so the feed
 * tells a late event of an erased generation from a new one with the same seq.
 */
export const GENERATION_KEY = "generation";

/** Created by the first erasure only: a history never erased writes no row for it. */
const STUB_TABLE = `
  CREATE TABLE IF NOT EXISTS erased_events (
    generation INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    type TEXT NOT NULL,
    topic TEXT NOT NULL,
    created_at TEXT NOT NULL,
    occurred_at TEXT,
    event_id TEXT,
    hash TEXT,
    prev_hash TEXT,
    commitments TEXT,
    proof TEXT,
    PRIMARY KEY (generation, sequence)
  )`;

/**
 * Moves the history into the stub as generation `generation` and leaves the events table empty.
 * The proof keeps who recorded each event and in which request; the client IP goes. A sender's
 * event id may be made of personal data, so the stub keeps only its keyed hash (`hashEventId`),
 * enough to know a redelivery. Run inside the erasure's synchronous transaction.
 */
export function moveToStub(sql: SqlStorage, generation: number, hashEventId: (eventId: string) => string): void {
  sql.exec(STUB_TABLE);
  const ids = sql.exec<{ sequence: number; event_id: string }>("SELECT sequence, event_id FROM events WHERE event_id IS NOT NULL").toArray();
  sql.exec(
    `INSERT INTO erased_events (generation, sequence, type, topic, created_at, occurred_at, event_id, hash, prev_hash, commitments, proof)
     SELECT ?, sequence, type, topic, created_at, occurred_at, NULL, hash, prev_hash, commitments, json_remove(proof, '$.client_ip') FROM events`,
    generation,
  );
  for (const { sequence, event_id } of ids) sql.exec("UPDATE erased_events SET event_id = ? WHERE generation = ? AND sequence = ?", hashEventId(event_id), generation, sequence);
  sql.exec("DELETE FROM events");
}

/** The stub of generation `generation`, oldest first. */
export function stubOf(sql: SqlStorage, generation: number): StubEvent[] {
  return sql
    .exec<StubEvent>("SELECT sequence AS seq, type, topic, created_at, hash FROM erased_events WHERE generation = ? ORDER BY sequence", generation)
    .toArray();
}

/** Whether an erased generation held the event whose sender's id hashes to `hashedEventId` (a redelivery then records nothing). */
export function erasedEventHeld(sql: SqlStorage, hashedEventId: string): boolean {
  return sql.exec("SELECT 1 FROM erased_events WHERE event_id = ? LIMIT 1", hashedEventId).toArray().length > 0;
}
