import type { EventRecord } from "../event-record";

/** The columns of a stored event, as an EventRecord. */
const RECORD_COLUMNS = "sequence, type, topic, source, meta, created_at AS createdAt, occurred_at AS occurredAt, hash, prev_hash AS prevHash, commitments, proof";

export interface ListQuery {
  topic?: string;
  limit: number;
  offset: number;
  /** Only events older than this sequence: pins pages to the history as it was when paging began. */
  before?: number;
}

/** One page of a history, newest first, with the size of the (topic-filtered) history. */
export interface HistoryPage {
  records: EventRecord[];
  total: number;
  /** Whether older events follow this page. */
  more: boolean;
}

/** The history of one identifier in its ledger's SQLite storage: numbered rows, read and appended. */
export class History {
  constructor(readonly sql: SqlStorage) {}

  /** The newest event's sequence, time and link (zeros and null for an empty history). */
  last(): { sequence: number; createdAt: number; hash: string | null } {
    const row = this.sql
      .exec<{ sequence: number; created_at: string; hash: string | null }>("SELECT sequence, created_at, hash FROM events ORDER BY sequence DESC LIMIT 1")
      .toArray()[0];
    return row ? { sequence: row.sequence, createdAt: Date.parse(row.created_at), hash: row.hash } : { sequence: 0, createdAt: 0, hash: null };
  }

  /**
   * Stores one event as it is recorded (the caller numbers and links it, inside its transaction),
   * with the sender's id for it if it has one (`eventId`: a redelivery then finds it, see `byEventId`).
   */
  insert(record: EventRecord, eventId: string | null = null, idempotencyRecord: string | null = null): void {
    this.sql.exec(
      "INSERT INTO events (sequence, type, topic, source, meta, created_at, occurred_at, event_id, idempotency_record, hash, prev_hash, commitments, proof) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      record.sequence,
      record.type,
      record.topic,
      record.source,
      record.meta,
      record.createdAt,
      record.occurredAt,
      eventId,
      idempotencyRecord,
      record.hash,
      record.prevHash,
      record.commitments,
      record.proof,
    );
  }

  page({ topic, limit, offset, before }: ListQuery): HistoryPage {
    const rows = this.sql
      .exec<EventRecord>(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE (?1 IS NULL OR topic = ?1) AND (?2 IS NULL OR sequence < ?2) ORDER BY sequence DESC LIMIT ?3 OFFSET ?4`,
        topic ?? null,
        before ?? null,
        limit + 1,
        offset,
      )
      .toArray();
    const total = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE ?1 IS NULL OR topic = ?1", topic ?? null).one().n;
    return { records: rows.slice(0, limit), total, more: rows.length > limit };
  }

  /** Events after `sequence`, oldest first: what the feed may still lack. */
  after(sequence: number, limit: number, createdUntil?: string): EventRecord[] {
    return this.sql
      .exec<EventRecord>(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE sequence > ?1 AND (?2 IS NULL OR created_at <= ?2) ORDER BY sequence LIMIT ?3`,
        sequence,
        createdUntil ?? null,
        limit,
      )
      .toArray();
  }

  /**
   * Per topic (or the one asked), its latest decision (OPT_IN, DOUBLE_OPT_IN or OPT_OUT) and its
   * latest DOUBLE_OPT_IN_REQUESTED created at or before `at`: what the rules of state need.
   */
  latestPerTopic(at: string, topic?: string): { topic: string; decision: EventRecord | null; request: EventRecord | null }[] {
    const topics = this.sql
      .exec<{ topic: string }>("SELECT DISTINCT topic FROM events WHERE created_at <= ?1 AND (?2 IS NULL OR topic = ?2) ORDER BY topic", at, topic ?? null)
      .toArray();
    const latest = (t: string, types: string) =>
      this.sql
        .exec<EventRecord>(`SELECT ${RECORD_COLUMNS} FROM events WHERE topic = ? AND created_at <= ? AND type IN (${types}) ORDER BY sequence DESC LIMIT 1`, t, at)
        .toArray()[0] ?? null;
    return topics.map(({ topic: t }) => ({
      topic: t,
      decision: latest(t, "'OPT_IN', 'DOUBLE_OPT_IN', 'OPT_OUT'"),
      request: latest(t, "'DOUBLE_OPT_IN_REQUESTED'"),
    }));
  }

  /** The idempotency records that keep answers naming this history's events. */
  idempotencyRecords(): string[] {
    return this.sql
      .exec<{ record: string }>("SELECT DISTINCT idempotency_record AS record FROM events WHERE idempotency_record IS NOT NULL")
      .toArray()
      .map((row) => row.record);
  }

  /** The event the sender identified as `eventId`, if this history holds it. */
  byEventId(eventId: string): EventRecord | null {
    return this.sql.exec<EventRecord>(`SELECT ${RECORD_COLUMNS} FROM events WHERE event_id = ?`, eventId).toArray()[0] ?? null;
  }

  /** The event numbered `sequence`, if there is one. */
  at(sequence: number): EventRecord | null {
    return this.sql.exec<EventRecord>(`SELECT ${RECORD_COLUMNS} FROM events WHERE sequence = ?`, sequence).toArray()[0] ?? null;
  }

  /** Every event, oldest first (a ledger handing its history over, a verification). */
  all(): EventRecord[] {
    return this.sql.exec<EventRecord>(`SELECT ${RECORD_COLUMNS} FROM events ORDER BY sequence`).toArray();
  }
}
