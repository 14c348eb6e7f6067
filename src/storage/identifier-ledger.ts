import { DurableObject } from "cloudflare:workers";
import type { ConsentEvent, EventInput } from "../consent-event";
import { errorFields, log } from "../log";
import type { ConsentEventRow } from "./d1-schema";
import { indexEvents } from "./event-index";
import { toConsentEvent, type EventRecord, type LedgerKey } from "./event-record";

/** Where a double opt-in request stands. */
export type OptInStatus = "pending" | "confirmed" | "withdrawn" | "unknown";
/** Whether the latest consent event on a topic is an OPT_OUT. */
export type OptOutStatus = "subscribed" | "unsubscribed" | "unknown";

/** What a link sees of the ledger: the status, whose history it is (for the page), and what it recorded. */
export interface LinkView<S> {
  status: S;
  identifier?: string;
  event?: ConsentEvent;
}

/** What a link adds to the event it records: source and proof in meta. */
export type Proof = Omit<EventInput, "type" | "topic">;

/** An appended event and its place in the history (gapless, from 1). */
export interface Appended {
  sequence: number;
  event: ConsentEvent;
}

export interface ListQuery {
  topic?: string;
  limit: number;
  offset: number;
}

/** Events sent to D1 per batch; a longer backlog drains over consecutive alarms. */
const FLUSH_BATCH = 100;
const MAX_BACKOFF_MS = 5 * 60_000;

/** Name of the ledger for (organization, identifier): JSON keeps every pair distinct. */
export const ledgerName = (key: LedgerKey) => JSON.stringify([key.organizationId, key.identifier]);

const RECORD_COLUMNS = "sequence, type, topic, source, meta, created_at AS createdAt";

/**
 * The single writer of one identifier's consent history.
 *
 * Events are numbered and committed in the object's own SQLite storage synchronously, before any
 * other awaited I/O, so concurrent appends are totally ordered. Each event also lands in an outbox
 * that the alarm drains into D1, retrying with backoff until D1 accepts it.
 */
export class IdentifierLedger extends DurableObject<Env> {
  /** The D1 binding the outbox drains into; a field so tests can wrap it to inject faults. */
  indexDb: D1Database;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.indexDb = env.DB;
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS ledger (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events (
        sequence INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        topic TEXT NOT NULL,
        source TEXT,
        meta TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_by_topic ON events (topic, sequence);
      CREATE TABLE IF NOT EXISTS outbox (sequence INTEGER PRIMARY KEY);
    `);
  }

  /** Appends one event and answers it as stored. Resolves only once the event is durable. */
  async append(key: LedgerKey, event: EventInput): Promise<Appended> {
    const appended = this.ctx.storage.transactionSync(() => this.appendNow(key, event));
    await this.scheduleFlush();
    return appended;
  }

  /** One page of the history, newest first, with the size of the (topic-filtered) history. */
  list(key: LedgerKey, query: ListQuery): { events: ConsentEvent[]; total: number } {
    const owner = this.owner();
    if (!owner) return { events: [], total: 0 };
    this.assertOwner(owner, key);
    const topic = query.topic ?? null;
    const records = this.ctx.storage.sql
      .exec<EventRecord>(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE ?1 IS NULL OR topic = ?1 ORDER BY sequence DESC LIMIT ?2 OFFSET ?3`,
        topic,
        query.limit,
        query.offset,
      )
      .toArray();
    const total = this.ctx.storage.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE ?1 IS NULL OR topic = ?1", topic)
      .one().n;
    return { events: records.map((r) => toConsentEvent(owner, r)), total };
  }

  /** Where the double opt-in request `requestSequence` on `topic` stands. Changes nothing. */
  optInStatus(organizationId: string, requestSequence: number, topic: string): LinkView<OptInStatus> {
    return this.asOwnerOf(organizationId, (owner) => ({ status: this.optInStatusNow(requestSequence, topic), identifier: owner.identifier }));
  }

  /**
   * Records DOUBLE_OPT_IN for a pending request, atomically with the check: a request is confirmed
   * at most once, and never after a later OPT_OUT on its topic.
   */
  confirmOptIn(organizationId: string, requestSequence: number, topic: string, proof: Proof) {
    return this.appendUnless(organizationId, () => {
      const status = this.optInStatusNow(requestSequence, topic);
      return status === "pending" ? { status: "confirmed" as const, append: { type: "DOUBLE_OPT_IN", topic, ...proof } } : { status };
    });
  }

  /** Whether the identifier is currently opted out of `topic`. Changes nothing. */
  optOutStatus(organizationId: string, topic: string): LinkView<OptOutStatus> {
    return this.asOwnerOf(organizationId, (owner) => ({ status: this.optOutStatusNow(topic), identifier: owner.identifier }));
  }

  /** Records OPT_OUT unless the latest consent event on `topic` already is one (links get clicked twice). */
  optOut(organizationId: string, topic: string, proof: Proof) {
    return this.appendUnless(organizationId, () =>
      this.optOutStatusNow(topic) === "unsubscribed"
        ? { status: "unsubscribed" as const }
        : { status: "unsubscribed" as const, append: { type: "OPT_OUT", topic, ...proof } },
    );
  }

  /** How many events still wait for D1. */
  pendingCount(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  }

  /** Drains the outbox into D1; on failure, tries again later with exponential backoff. */
  override async alarm(): Promise<void> {
    const owner = this.owner();
    const records = this.ctx.storage.sql
      .exec<EventRecord>(
        `SELECT ${RECORD_COLUMNS} FROM outbox o JOIN events e USING (sequence) ORDER BY sequence LIMIT ?`,
        FLUSH_BATCH,
      )
      .toArray();
    if (!owner || records.length === 0) return;
    try {
      await indexEvents(this.indexDb, records.map((r): ConsentEventRow => ({ ...owner, ...r })));
    } catch (error) {
      const attempt = Number(this.setting("flush_failures") ?? 0) + 1;
      this.setSetting("flush_failures", String(attempt));
      const delay = Math.min(1000 * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      log("warn", "D1 index write failed", { ledger: this.ctx.id.toString(), attempt, retry_in_ms: delay, ...errorFields(error) });
      await this.ctx.storage.setAlarm(Date.now() + delay);
      return;
    }
    // Events appended while D1 was busy have higher sequences and stay queued.
    this.ctx.storage.sql.exec("DELETE FROM outbox WHERE sequence <= ?", records.at(-1)!.sequence);
    this.ctx.storage.sql.exec("DELETE FROM ledger WHERE key = 'flush_failures'");
    if (this.pendingCount() > 0) await this.ctx.storage.setAlarm(Date.now());
  }

  /** Numbers, stores and queues one event; runs inside a synchronous transaction. */
  private appendNow(key: LedgerKey, event: EventInput): Appended {
    const owner = this.owner() ?? this.claim(key);
    this.assertOwner(owner, key);
    const last = this.ctx.storage.sql
      .exec<{ sequence: number; created_at: string }>(
        "SELECT sequence, created_at FROM events ORDER BY sequence DESC LIMIT 1",
      )
      .toArray()[0];
    const sequence = (last?.sequence ?? 0) + 1;
    // Never earlier than the previous event, so time order agrees with sequence order.
    const createdAt = new Date(Math.max(Date.now(), last ? Date.parse(last.created_at) : 0)).toISOString();
    this.ctx.storage.sql.exec(
      "INSERT INTO events (sequence, type, topic, source, meta, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      sequence,
      event.type,
      event.topic,
      event.source ?? null,
      event.meta === undefined ? null : JSON.stringify(event.meta),
      createdAt,
    );
    this.ctx.storage.sql.exec("INSERT INTO outbox (sequence) VALUES (?)", sequence);
    return {
      sequence,
      event: {
        type: event.type,
        created_at: createdAt,
        topic: event.topic,
        ...(event.source === undefined ? {} : { source: event.source }),
        organization_id: owner.organizationId,
        identifier: owner.identifier,
        ...(event.meta === undefined ? {} : { meta: event.meta }),
      },
    };
  }

  private optInStatusNow(requestSequence: number, topic: string): OptInStatus {
    const sql = this.ctx.storage.sql;
    const requested = sql
      .exec("SELECT 1 FROM events WHERE sequence = ? AND type = 'DOUBLE_OPT_IN_REQUESTED' AND topic = ?", requestSequence, topic)
      .toArray().length;
    if (!requested) return "unknown";
    const withdrawn = sql
      .exec("SELECT 1 FROM events WHERE type = 'OPT_OUT' AND topic = ? AND sequence > ? LIMIT 1", topic, requestSequence)
      .toArray().length;
    if (withdrawn) return "withdrawn";
    const confirmed = sql
      .exec(
        "SELECT 1 FROM events WHERE type = 'DOUBLE_OPT_IN' AND topic = ? AND json_extract(meta, '$.request_sequence') = ? LIMIT 1",
        topic,
        requestSequence,
      )
      .toArray().length;
    return confirmed ? "confirmed" : "pending";
  }

  private optOutStatusNow(topic: string): OptOutStatus {
    const latest = this.ctx.storage.sql
      .exec<{ type: string }>(
        "SELECT type FROM events WHERE topic = ? AND type IN ('OPT_IN', 'OPT_OUT', 'DOUBLE_OPT_IN') ORDER BY sequence DESC LIMIT 1",
        topic,
      )
      .toArray()[0];
    return latest?.type === "OPT_OUT" ? "unsubscribed" : "subscribed";
  }

  /**
   * Checks and appends in one synchronous transaction, so no other request can slip in between:
   * `decide` answers the status and, if the link should record something, the event to append.
   */
  private async appendUnless<S extends string>(
    organizationId: string,
    decide: () => { status: S; append?: EventInput },
  ): Promise<LinkView<S | "unknown">> {
    const outcome = this.ctx.storage.transactionSync(() =>
      this.asOwnerOf(organizationId, (owner): LinkView<S> => {
        const { status, append } = decide();
        return { status, identifier: owner.identifier, ...(append ? { event: this.appendNow(owner, append).event } : {}) };
      }),
    );
    if ("event" in outcome && outcome.event) await this.scheduleFlush();
    return outcome;
  }

  /** Runs `action` for a link of `organizationId`; a ledger of another organization (or none) is "unknown". */
  private asOwnerOf<R>(organizationId: string, action: (owner: LedgerKey) => R): R | { status: "unknown" } {
    const owner = this.owner();
    return owner && owner.organizationId === organizationId ? action(owner) : { status: "unknown" };
  }

  private async scheduleFlush() {
    // An alarm already set is either imminent or a backoff that a new event should not cut short.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  private owner(): LedgerKey | undefined {
    const organizationId = this.setting("organization_id");
    const identifier = this.setting("identifier");
    return organizationId !== undefined && identifier !== undefined ? { organizationId, identifier } : undefined;
  }

  private claim(key: LedgerKey): LedgerKey {
    this.setSetting("organization_id", key.organizationId);
    this.setSetting("identifier", key.identifier);
    return { organizationId: key.organizationId, identifier: key.identifier };
  }

  /** Defence in depth: a ledger only ever answers for the pair it was named after. */
  private assertOwner(owner: LedgerKey, key: LedgerKey) {
    if (owner.organizationId !== key.organizationId || owner.identifier !== key.identifier) {
      throw new Error("ledger addressed with a key it does not belong to");
    }
  }

  private setting(key: string): string | undefined {
    return this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM ledger WHERE key = ?", key).toArray()[0]
      ?.value;
  }

  private setSetting(key: string, value: string) {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO ledger (key, value) VALUES (?, ?)", key, value);
  }
}
