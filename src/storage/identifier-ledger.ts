import { DurableObject } from "cloudflare:workers";
import type { ConsentEvent, EventInput } from "../consent-event";
import { errorFields, log } from "../log";
import { appendedEvent, toConsentEvent, type EventRecord, type IndexEntry, type LedgerKey } from "./event-record";
import { queueBatches } from "./index-feed";
import { INDEXED_THROUGH_KEY, migrateLedger, OWNER_KEY } from "./ledger-schema";

/** Failed re-sends in a row, for the safety net's backoff. */
const RESEND_FAILURES_KEY = "resend_failures";

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

/** What a link's POST did: its view, and the event it appended (as the D1 index takes it), if any. */
export type LinkAppend<S> = LinkView<S> & { appended?: IndexEntry };

export interface ListQuery {
  topic?: string;
  limit: number;
  offset: number;
}

/** Outbox entries re-sent per alarm; a longer backlog goes over consecutive alarms. */
const RESEND_BATCH = 100;
/**
 * How long the index pipeline (worker batch → queue → consumer → D1 → acknowledgement) may take
 * before the safety net re-sends an object's outbox itself. Well above its normal second or two.
 */
const SAFETY_NET_MS = 30_000;
const MAX_BACKOFF_MS = 5 * 60_000;

type RpcMethod = "append" | "list" | "optInStatus" | "confirmOptIn" | "optOutStatus" | "optOut" | "pendingCount" | "indexed";

/**
 * A ledger as its callers see it over RPC: each method answers a promise of what it returns.
 * (Workers' generated RPC types cannot follow the recursive JSON type of `meta`: they would make
 * every answer `never`, which type-checks anything.)
 */
export type LedgerStub = {
  [K in RpcMethod]: (...args: Parameters<IdentifierLedger[K]>) => Promise<Awaited<ReturnType<IdentifierLedger[K]>>>;
};

/** The stub of the ledger with `id`. */
export const ledgerStub = (env: Env, id: DurableObjectId) => env.IDENTIFIER_LEDGER.get(id) as unknown as LedgerStub;

/** Name of the ledger for (organization, identifier): JSON keeps every pair distinct. */
export const ledgerName = (key: LedgerKey) => JSON.stringify([key.organizationId, key.identifier]);

const RECORD_COLUMNS = "sequence, type, topic, source, meta, created_at AS createdAt";

/**
 * The single writer of one identifier's consent history.
 *
 * Events are numbered and committed in the object's own SQLite storage synchronously, before any
 * other awaited I/O, so concurrent appends are totally ordered. The outbox is a watermark: the
 * events after `indexed_through` are those D1 may still lack, so an event and its place in the
 * outbox are one row, committed together. The worker hands new events to the index queue in
 * batches (index-feed.ts); the queue consumer acknowledges what D1 took (`indexed`), which moves
 * the watermark. Until then an alarm stands by: when it fires, the object re-sends the events
 * after the watermark itself.
 */
export class IdentifierLedger extends DurableObject<Env> {
  /** The queue the safety net re-sends to; a field so tests can wrap it to inject faults. */
  indexQueue: Queue<IndexEntry>;

  // Read once per start and kept in step with each commit: no SELECT per append.
  private owner: LedgerKey | undefined;
  private lastSequence = 0;
  private lastCreatedAt = 0;
  private indexedThrough = 0;
  private safetyNetArmed = false;
  /** Settles once the storage is migrated and the counters are read (the runtime holds requests until then). */
  readonly started: Promise<void>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.indexQueue = env.INDEX_QUEUE;
    this.started = ctx.blockConcurrencyWhile(async () => {
      migrateLedger(ctx.storage);
      this.owner = ctx.storage.kv.get<LedgerKey>(OWNER_KEY);
      const last = ctx.storage.sql
        .exec<{ sequence: number; created_at: string }>("SELECT sequence, created_at FROM events ORDER BY sequence DESC LIMIT 1")
        .toArray()[0];
      this.lastSequence = last?.sequence ?? 0;
      this.lastCreatedAt = last ? Date.parse(last.created_at) : 0;
      this.indexedThrough = ctx.storage.kv.get<number>(INDEXED_THROUGH_KEY) ?? 0;
      // An object with events D1 may lack always has its safety net armed (even one set before a crash).
      if (this.pendingCount() > 0) {
        if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now() + SAFETY_NET_MS);
        this.safetyNetArmed = true;
      }
    });
  }

  /**
   * Appends one event and answers its row as the D1 index takes it (its `sequence` is its gapless
   * place in the history, from 1). Resolves only once the event is durable.
   */
  async append(key: LedgerKey, event: EventInput): Promise<IndexEntry> {
    if (this.owner) this.assertOwner(this.owner, key);
    const owner = this.owner ?? { organizationId: key.organizationId, identifier: key.identifier };
    const appended = this.ctx.storage.transactionSync(() => {
      // The first event names the object's owner, in the same transaction.
      if (!this.owner) this.ctx.storage.kv.put(OWNER_KEY, owner);
      return this.appendNow(owner, event);
    });
    this.owner = owner;
    this.remember(appended);
    await this.armSafetyNet();
    return appended;
  }

  /** One page of the history, newest first, with the size of the (topic-filtered) history. */
  list(key: LedgerKey, query: ListQuery): { events: ConsentEvent[]; total: number } {
    const owner = this.owner;
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
  confirmOptIn(organizationId: string, requestSequence: number, topic: string, proof: Proof): Promise<LinkAppend<OptInStatus>> {
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
  optOut(organizationId: string, topic: string, proof: Proof): Promise<LinkAppend<OptOutStatus>> {
    return this.appendUnless(organizationId, () =>
      this.optOutStatusNow(topic) === "unsubscribed"
        ? { status: "unsubscribed" as const }
        : { status: "unsubscribed" as const, append: { type: "OPT_OUT", topic, ...proof } },
    );
  }

  /** How many events still wait for D1. */
  pendingCount(): number {
    return this.lastSequence - this.indexedThrough;
  }

  /** The queue consumer's acknowledgement: D1 holds this identifier's events up to `sequence`. */
  async indexed(sequence: number): Promise<void> {
    if (sequence <= this.indexedThrough) return;
    this.indexedThrough = Math.min(sequence, this.lastSequence);
    this.ctx.storage.kv.put(INDEXED_THROUGH_KEY, this.indexedThrough);
    if (this.pendingCount() === 0 && this.safetyNetArmed) {
      // Disarmed before the await, so an append that interleaves arms it again.
      this.safetyNetArmed = false;
      this.ctx.storage.kv.delete(RESEND_FAILURES_KEY);
      await this.ctx.storage.deleteAlarm();
      if (this.pendingCount() > 0) await this.armSafetyNet();
    }
  }

  /**
   * The safety net: events the pipeline has not acknowledged within SAFETY_NET_MS are sent to the
   * index queue again (the consumer ignores those D1 already has); younger ones are still on their
   * way. Checks again until everything is acknowledged, backing off while the queue refuses.
   */
  override async alarm(): Promise<void> {
    this.safetyNetArmed = false;
    const owner = this.owner;
    if (!owner || this.pendingCount() === 0) return;
    const now = Date.now();
    const due = this.ctx.storage.sql
      .exec<EventRecord>(
        `SELECT ${RECORD_COLUMNS} FROM events WHERE sequence > ? AND created_at <= ? ORDER BY sequence LIMIT ?`,
        this.indexedThrough,
        new Date(now - SAFETY_NET_MS).toISOString(),
        RESEND_BATCH,
      )
      .toArray();
    let next: number;
    if (due.length > 0) {
      const ledger = this.ctx.id.toString();
      const failures = this.ctx.storage.kv.get<number>(RESEND_FAILURES_KEY) ?? 0;
      try {
        for (const batch of queueBatches(due.map((record) => ({ ...owner, ...record, ledger })))) {
          await this.indexQueue.sendBatch(batch.map((body) => ({ body })));
        }
        this.ctx.storage.kv.delete(RESEND_FAILURES_KEY);
        next = now + SAFETY_NET_MS;
      } catch (error) {
        this.ctx.storage.kv.put(RESEND_FAILURES_KEY, failures + 1);
        log(this.env, "warn", "index queue refused the outbox", { ledger, attempt: failures + 1, ...errorFields(error) });
        next = now + Math.min(SAFETY_NET_MS * 2 ** (failures + 1), MAX_BACKOFF_MS);
      }
    } else {
      // Nothing is due yet: come back when the oldest pending event is.
      const oldest = this.ctx.storage.sql
        .exec<{ created_at: string }>("SELECT created_at FROM events WHERE sequence > ? ORDER BY sequence LIMIT 1", this.indexedThrough)
        .one().created_at;
      next = Date.parse(oldest) + SAFETY_NET_MS;
    }
    await this.armSafetyNet(next);
  }

  /** Keeps the in-memory counters in step with a committed append. */
  private remember({ sequence, createdAt }: IndexEntry) {
    this.lastSequence = sequence;
    this.lastCreatedAt = Date.parse(createdAt);
  }

  private async armSafetyNet(at = Date.now() + SAFETY_NET_MS) {
    if (this.safetyNetArmed) return;
    // Armed before the await, so interleaving appends do not set it again.
    this.safetyNetArmed = true;
    try {
      await this.ctx.storage.setAlarm(at);
    } catch (error) {
      this.safetyNetArmed = false;
      throw error;
    }
  }

  /** Numbers and stores one event (beyond the watermark: in the outbox); runs inside a synchronous transaction and leaves memory to `remember`. */
  private appendNow(owner: LedgerKey, event: EventInput): IndexEntry {
    const sequence = this.lastSequence + 1;
    // Never earlier than the previous event, so time order agrees with sequence order.
    const createdAt = new Date(Math.max(Date.now(), this.lastCreatedAt)).toISOString();
    const meta = event.meta === undefined ? null : JSON.stringify(event.meta);
    const source = event.source ?? null;
    this.ctx.storage.sql.exec(
      "INSERT INTO events (sequence, type, topic, source, meta, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      sequence,
      event.type,
      event.topic,
      source,
      meta,
      createdAt,
    );
    return { ...owner, sequence, type: event.type, topic: event.topic, source, meta, createdAt, ledger: this.ctx.id.toString() };
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
  ): Promise<LinkAppend<S | "unknown">> {
    const outcome = this.ctx.storage.transactionSync(() =>
      this.asOwnerOf(organizationId, (owner): LinkAppend<S> => {
        const { status, append } = decide();
        if (!append) return { status, identifier: owner.identifier };
        const appended = this.appendNow(owner, append);
        return { status, identifier: owner.identifier, event: appendedEvent(appended, append.meta), appended };
      }),
    );
    if ("appended" in outcome && outcome.appended) {
      this.remember(outcome.appended);
      await this.armSafetyNet();
    }
    return outcome;
  }

  /** Runs `action` for a link of `organizationId`; a ledger of another organization (or none) is "unknown". */
  private asOwnerOf<R>(organizationId: string, action: (owner: LedgerKey) => R): R | { status: "unknown" } {
    const owner = this.owner;
    return owner && owner.organizationId === organizationId ? action(owner) : { status: "unknown" };
  }

  /** Defence in depth: a ledger only ever answers for the pair it was named after. */
  private assertOwner(owner: LedgerKey, key: LedgerKey) {
    if (owner.organizationId !== key.organizationId || owner.identifier !== key.identifier) {
      throw new Error("ledger addressed with a key it does not belong to");
    }
  }
}
