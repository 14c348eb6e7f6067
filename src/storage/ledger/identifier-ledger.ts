import { DurableObject } from "cloudflare:workers";
import { identifierHash, keyedHash } from "../../chain";
import { identifierKey, settings } from "../../config";
import { errorFields, log } from "../../log";
import type { EventRecord, EventText, FeedEntry, LedgerKey } from "../event-record";
import { eraseFromFeed, type FeedErasure } from "../feed/erasure";
import { feedBatches } from "../feed/producer";
import { chainFields } from "./chain-link";
import { erasedEventHeld, ERASURES_KEY, GENERATION_KEY, moveToStub, stubOf, type ErasureRecord, type StubEvent } from "./erasure";
import { History, type HistoryPage, type ListQuery } from "./history";
import { legacyLedgerName, MOVED_TO_KEY, type HandOver } from "./legacy";
import { optInStatus, optOutStatus, type OptInStatus, type OptOutStatus } from "./link-rules";
import { nextCheck, RESEND_BATCH, RESENDS_KEY, SAFETY_NET_MS } from "./outbox";
import { createSchema, FED_THROUGH_KEY, openLedger, OWNER_KEY } from "./schema";

export type { ListQuery, HistoryPage } from "./history";
export type { OptInStatus, OptOutStatus } from "./link-rules";
export type { ErasureRecord, StubEvent } from "./erasure";

/** An erasure as the ledger answers it: its record, the keyed identifier hash and the stub of the generation it closed. */
export interface Erasure extends ErasureRecord {
  identifierHash: string;
  stub: StubEvent[];
}

/** The feed's part of the latest erasure, until D1 has taken it (FeedErasure). */
const FEED_ERASURE_KEY = "feed_erasure";

/**
 * Whose history a ledger holds, the identifier rules version its identifier was normalised under
 * (absent: 1), and the identifier's keyed hash (absent for owners from before the chain: computed).
 */
export type Owner = LedgerKey & { rules?: number; identifierHash?: string };

/** How a caller addresses a ledger: its owner, and the spelling the identifier had under the rules before v2 (what named its old ledger). */
export type LedgerAddress = Owner & { legacyIdentifier?: string };

/** The owner an address names (what the ledger stores of it). */
const ownerOf = ({ legacyIdentifier: _, ...owner }: LedgerAddress): Owner => owner;

/** What a link sees of the ledger: the status, whose history it is (for the page), and what it recorded. */
export interface LinkView<S> {
  status: S;
  identifier?: string;
  appended?: FeedEntry;
}

/** One event to append, with its sender's id for it if it has one (a redelivery is then recorded once). */
export interface Appending {
  event: EventText;
  eventId?: string | null;
}

/**
 * What a link may reach: its organization's history, of the generation it was signed for (1 until
 * the first erasure), so a link mailed before an erasure never reaches the history after it.
 */
export interface LinkScope {
  organizationId: string;
  generation: number;
}

/** What a link adds to the event it records: its source, its evidence (meta as JSON text) and how it was recorded. */
export type Proof = Pick<EventText, "proof"> & { source: string; meta: string };

/**
 * The single writer of one identifier's consent history. The class holds the RPC methods and the
 * transaction boundaries; the history's rows (history.ts), the link rules (link-rules.ts), the
 * safety net's schedule (outbox.ts) and the storage's schema (schema.ts) live beside it.
 *
 * Events are numbered and committed in the object's own SQLite storage synchronously, before any
 * other awaited I/O, so concurrent appends are totally ordered. The outbox is a watermark: the
 * events after `fedThrough` are those the feed (D1) may still lack. The worker hands new events to
 * the feed queue; the consumer acknowledges what D1 took (`fed`), which moves the watermark. Until
 * then an alarm stands by and, when it fires, re-sends the events after the watermark itself.
 */
export class IdentifierLedger extends DurableObject<Env> {
  readonly #history: History;
  // Read once per start and kept in step with each commit: no SELECT per append.
  #owner: Owner | undefined;
  #movedTo: string | undefined;
  #lastSequence = 0;
  #lastCreatedAt = 0;
  #lastHash: string | null = null;
  #fedThrough = 0;
  #resends = 0;
  #generation = 1;
  #erasures: ErasureRecord[] = [];
  #armed = false;
  /** Whether an old-named ledger was looked for since this instance started (kept in memory: reads write nothing). */
  #adoptionChecked = false;
  /** Settles once the storage is migrated and the counters are read (the runtime holds requests until then). */
  readonly started: Promise<void>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#history = new History(ctx.storage.sql);
    this.started = ctx.blockConcurrencyWhile(async () => {
      if (!openLedger(ctx.storage, { identifierKey: this.#identifierKey() })) return;
      const kv = ctx.storage.kv;
      this.#owner = kv.get<Owner>(OWNER_KEY);
      this.#movedTo = kv.get<string>(MOVED_TO_KEY);
      const last = this.#history.last();
      this.#lastSequence = last.sequence;
      this.#lastCreatedAt = last.createdAt;
      this.#lastHash = last.hash;
      this.#fedThrough = kv.get<number>(FED_THROUGH_KEY) ?? 0;
      this.#resends = kv.get<number>(RESENDS_KEY) ?? 0;
      this.#generation = kv.get<number>(GENERATION_KEY) ?? 1;
      this.#erasures = kv.get<ErasureRecord[]>(ERASURES_KEY) ?? [];
      // An object with events D1 may lack, or an erasure D1 has not taken, always has its safety net armed (even one lost in a crash).
      if (this.pendingCount() > 0 || kv.get(FEED_ERASURE_KEY) !== undefined) {
        if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now() + SAFETY_NET_MS);
        this.#armed = true;
      }
    });
  }

  /**
   * Appends one event and answers its feed entry (its `sequence` is its gapless place in the
   * history, from 1). Resolves only once the event is durable.
   */
  async append(key: LedgerAddress, event: EventText): Promise<FeedEntry> {
    return (await this.appendMany(key, [{ event }]))[0]!;
  }

  /**
   * Appends the event its sender identified as `eventId` (a Copilot Collect event), unless the
   * history already holds it: answers its feed entry, or null for a redelivery, which records
   * nothing. The check and the append are one synchronous transaction, so concurrent deliveries
   * of one event record it exactly once, and the id is kept with the event for good.
   */
  async appendOnce(key: LedgerAddress, eventId: string, event: EventText): Promise<FeedEntry | null> {
    return (await this.appendMany(key, [{ eventId, event }]))[0]!;
  }

  /**
   * Appends events in the order given, all or none, in one synchronous transaction: per event its
   * feed entry, or null where `eventId` names an event the history already holds (or one earlier
   * in the list). Resolves once all are durable.
   */
  async appendMany(key: LedgerAddress, events: readonly Appending[]): Promise<(FeedEntry | null)[]> {
    // A moved ledger takes nothing itself (an older worker may still address it).
    if (this.#movedTo) return this.#successor().appendMany(key, events);
    if (!this.#owner && !this.#adoptionChecked) await this.#adopt(key);
    const owner = this.#owner ?? ownerOf(key);
    if (!this.#owns(owner, key.organizationId, key.identifier)) throw new Error("ledger addressed with a key it does not belong to");
    const before = { sequence: this.#lastSequence, createdAt: new Date(this.#lastCreatedAt).toISOString(), hash: this.#lastHash };
    let appended: (FeedEntry | null)[];
    try {
      appended = this.ctx.storage.transactionSync(() => {
        // The first event creates the storage and names the owner, in the same transaction.
        if (!this.#owner) this.#claim(owner);
        return events.map(({ event, eventId = null }) => {
          if (eventId !== null && this.#holds(eventId)) return null;
          const entry = this.#appendNow(owner, event, eventId);
          // Kept in step inside the transaction: the next event follows this one.
          this.#remember(entry);
          return entry;
        });
      });
    } catch (error) {
      // Rolled back: so are the counters.
      this.#remember(before);
      throw error;
    }
    this.#owner = owner;
    if (appended.some((entry) => entry !== null)) await this.#armSafetyNet();
    return appended;
  }

  /** One page of the history, newest first, with the size of the (topic-filtered) history. */
  async list(key: LedgerAddress, query: ListQuery): Promise<HistoryPage> {
    if (this.#movedTo) return this.#successor().list(key, query);
    if (!this.#owner && !this.#adoptionChecked) await this.#adopt(key);
    if (!this.#owns(this.#owner, key.organizationId, key.identifier)) return { records: [], total: 0, more: false };
    return this.#history.page(query);
  }

  /** The whole history, oldest first, with its chain (for verification). Changes nothing. */
  async chain(key: LedgerAddress): Promise<EventRecord[]> {
    if (this.#movedTo) return this.#successor().chain(key);
    if (!this.#owner && !this.#adoptionChecked) await this.#adopt(key);
    return this.#owns(this.#owner, key.organizationId, key.identifier) ? this.#history.all() : [];
  }

  /**
   * Per topic, its latest decision and request up to `at` (for the rules of state), and when the
   * history was last erased, if it was. Changes nothing.
   */
  async latestPerTopic(key: LedgerAddress, at: string, topic?: string): Promise<{ topics: ReturnType<History["latestPerTopic"]>; erasedAt?: string }> {
    if (this.#movedTo) return this.#successor().latestPerTopic(key, at, topic);
    if (!this.#owner && !this.#adoptionChecked) await this.#adopt(key);
    const erasedAt = this.#erasures.at(-1)?.erasedAt;
    const topics = this.#owns(this.#owner, key.organizationId, key.identifier) ? this.#history.latestPerTopic(at, topic) : [];
    return { topics, ...(erasedAt === undefined ? {} : { erasedAt }) };
  }

  /**
   * Erases the history (GDPR Art. 17): the events move to a pseudonymous stub (erasure.ts), the
   * owner's identifier goes, and the next event starts generation + 1 at seq 1. D1's copy is
   * erased next (and, should D1 fail, by the alarm until it takes it). With nothing recorded since
   * the last erasure, answers that one again: erasing twice is erasing once.
   */
  async erase(key: LedgerAddress, by: { erasedBy: string; reason: string }): Promise<Erasure> {
    if (this.#movedTo) return this.#successor().erase(key, by);
    if (!this.#owner && !this.#adoptionChecked) await this.#adopt(key);
    if (this.#owner && !this.#owns(this.#owner, key.organizationId, key.identifier)) throw new Error("ledger addressed with a key it does not belong to");
    const hash = key.identifierHash ?? this.#identifierHashOf(key);
    const latest = this.#erasures.at(-1);
    if (!this.#owner && latest) {
      await this.#eraseFromFeed();
      return this.#erasureOf(latest, hash);
    }
    const generation = this.#generation;
    const storage = this.ctx.storage;
    // Kept with the erasure (they name no one), so that erasing again makes them forget again.
    const idempotencyRecords = this.#owner ? this.#history.idempotencyRecords() : [];
    const record: ErasureRecord = { generation, erasedAt: new Date().toISOString(), ...by, idempotencyRecords };
    const feedErasure: FeedErasure = {
      organizationId: key.organizationId,
      identifierHash: hash,
      identifiers: [...new Set([key.identifier, key.legacyIdentifier ?? key.identifier])],
      generation,
      erasedAt: record.erasedAt,
    };
    storage.transactionSync(() => {
      createSchema(storage);
      moveToStub(storage.sql, generation, (eventId) => this.#hashedEventId(eventId));
      for (const stale of [OWNER_KEY, FED_THROUGH_KEY, RESENDS_KEY]) storage.kv.delete(stale);
      storage.kv.put(ERASURES_KEY, [...this.#erasures, record]);
      storage.kv.put(GENERATION_KEY, generation + 1);
      storage.kv.put(FEED_ERASURE_KEY, feedErasure);
    });
    this.#owner = undefined;
    this.#erasures = [...this.#erasures, record];
    this.#generation = generation + 1;
    this.#lastSequence = this.#fedThrough = this.#resends = 0;
    this.#lastHash = null;
    // The safety net stands by for D1's part (the outbox is empty now: nothing else is pending).
    this.#armed = false;
    await storage.setAlarm(Date.now() + SAFETY_NET_MS);
    this.#armed = true;
    await this.#eraseFromFeed();
    return this.#erasureOf(record, hash);
  }

  /** The event `seq` of the history, if it holds one. Changes nothing. */
  async event(key: LedgerAddress, seq: number): Promise<EventRecord | null> {
    if (this.#movedTo) return this.#successor().event(key, seq);
    if (!this.#owner && !this.#adoptionChecked) await this.#adopt(key);
    return this.#owns(this.#owner, key.organizationId, key.identifier) ? this.#history.at(seq) : null;
  }

  /** Whose history this is, if a link of `scope` may reach it (a preference page link names only the ledger). Changes nothing. */
  identifierOf(scope: LinkScope): string | null | Promise<string | null> {
    if (this.#movedTo) return this.#successor().identifierOf(scope);
    return this.#reaches(scope) ? this.#owner!.identifier : null;
  }

  /** The generation a link to this history is signed for, or null when it has no history to link to. Changes nothing. */
  async generationOf(key: LedgerAddress): Promise<number | null> {
    if (this.#movedTo) return this.#successor().generationOf(key);
    if (!this.#owner && !this.#adoptionChecked) await this.#adopt(key);
    return this.#owns(this.#owner, key.organizationId, key.identifier) ? this.#generation : null;
  }

  /** Where the double opt-in request `requestSequence` on `topic` stands. Changes nothing. */
  optInStatus(scope: LinkScope, requestSequence: number, topic: string): LinkView<OptInStatus> | Promise<LinkView<OptInStatus>> {
    if (this.#movedTo) return this.#successor().optInStatus(scope, requestSequence, topic);
    return this.#asOwnerOf(scope, () => ({ status: optInStatus(this.ctx.storage.sql, requestSequence, topic) }));
  }

  /**
   * Records DOUBLE_OPT_IN for a pending request, atomically with the check: a request is confirmed
   * at most once, and never after a later OPT_OUT on its topic.
   */
  confirmOptIn(scope: LinkScope, requestSequence: number, topic: string, proof: Proof): Promise<LinkView<OptInStatus>> {
    if (this.#movedTo) return this.#successor().confirmOptIn(scope, requestSequence, topic, proof);
    return this.#appendUnless(scope, () => {
      const status = optInStatus(this.ctx.storage.sql, requestSequence, topic);
      return status === "pending" ? { status: "confirmed" as const, append: { type: "DOUBLE_OPT_IN", topic, ...proof } } : { status };
    });
  }

  /** Whether the identifier is currently opted out of `topic`. Changes nothing. */
  optOutStatus(scope: LinkScope, topic: string): LinkView<OptOutStatus> | Promise<LinkView<OptOutStatus>> {
    if (this.#movedTo) return this.#successor().optOutStatus(scope, topic);
    return this.#asOwnerOf(scope, () => ({ status: optOutStatus(this.ctx.storage.sql, topic) }));
  }

  /** Records OPT_OUT unless the latest consent event on `topic` already is one (links get clicked twice). */
  optOut(scope: LinkScope, topic: string, proof: Proof): Promise<LinkView<OptOutStatus>> {
    if (this.#movedTo) return this.#successor().optOut(scope, topic, proof);
    return this.#appendUnless(scope, () =>
      optOutStatus(this.ctx.storage.sql, topic) === "unsubscribed"
        ? { status: "unsubscribed" as const }
        : { status: "unsubscribed" as const, append: { type: "OPT_OUT", topic, ...proof } },
    );
  }

  /** How many events the feed may still lack. */
  pendingCount(): number {
    return this.#lastSequence - this.#fedThrough;
  }

  /**
   * The feed consumer's acknowledgement: D1 holds this identifier's events of `generation` up to
   * `sequence` (an acknowledgement of an erased generation says nothing of the current one).
   */
  async fed(sequence: number, generation = 1): Promise<void> {
    if (this.#movedTo) return this.#successor().fed(sequence, generation);
    if (!this.#owner || generation !== this.#generation || sequence <= this.#fedThrough) return;
    this.#fedThrough = Math.min(sequence, this.#lastSequence);
    this.ctx.storage.kv.put(FED_THROUGH_KEY, this.#fedThrough);
    if (this.#resends > 0) {
      // The pipeline works again: what the backoff still holds back goes at once, not in ten minutes.
      this.#resends = 0;
      this.ctx.storage.kv.delete(RESENDS_KEY);
      if (this.pendingCount() > 0) {
        this.#armed = true;
        await this.ctx.storage.setAlarm(Date.now());
        return;
      }
    }
    if (this.pendingCount() === 0 && this.#armed) {
      // Disarmed before the await, so an append that interleaves arms it again.
      this.#armed = false;
      await this.ctx.storage.deleteAlarm();
      if (this.pendingCount() > 0) await this.#armSafetyNet();
    }
  }

  /**
   * The consumer found that D1 holds this identifier's events only up to `heldThrough`, and a later
   * one waits for them. If the watermark counts more as fed (a restore lost rows), it goes back and
   * the events D1 lacks are sent again at once; otherwise those overdue for the safety net are (an
   * event merely still on its way changes nothing).
   */
  async resync(heldThrough: number, generation = 1): Promise<void> {
    if (this.#movedTo) return this.#successor().resync(heldThrough, generation);
    const owner = this.#owner;
    if (!owner || generation !== this.#generation) return;
    const lost = heldThrough < this.#fedThrough;
    if (lost) {
      log(this.env, "warn", "the feed lost events this ledger had fed; re-sending them", { ledger: this.ctx.id.toString(), fed_through: this.#fedThrough, held_through: heldThrough });
      this.#fedThrough = heldThrough;
      this.ctx.storage.kv.put(FED_THROUGH_KEY, heldThrough);
    }
    const missing = this.#history.after(heldThrough, RESEND_BATCH, lost ? undefined : new Date(Date.now() - SAFETY_NET_MS).toISOString());
    if (missing.length === 0) return;
    await this.#armSafetyNet();
    await this.#send(owner, missing);
  }

  /**
   * The safety net: events the pipeline has not acknowledged within SAFETY_NET_MS are sent to the
   * feed queue again (the consumer ignores those D1 already has); younger ones are still on their
   * way. Each re-send without progress waits twice as long for the next (outbox.ts).
   */
  override async alarm(): Promise<void> {
    this.#armed = false;
    if (this.ctx.storage.kv.get(FEED_ERASURE_KEY) !== undefined) {
      // The next check is set before trying, as for the outbox below.
      this.#resends++;
      this.ctx.storage.kv.put(RESENDS_KEY, this.#resends);
      await this.#armSafetyNet(nextCheck(Date.now(), this.#resends));
      await this.#eraseFromFeed();
      if (this.ctx.storage.kv.get(FEED_ERASURE_KEY) !== undefined) return;
      this.#resends = 0;
      this.ctx.storage.kv.delete(RESENDS_KEY);
    }
    const owner = this.#owner;
    if (!owner || this.#movedTo || this.pendingCount() === 0) return;
    const now = Date.now();
    const due = this.#history.after(this.#fedThrough, RESEND_BATCH, new Date(now - SAFETY_NET_MS).toISOString());
    if (due.length === 0) {
      // Nothing is due yet: come back when the oldest pending event is.
      const [oldest] = this.#history.after(this.#fedThrough, 1);
      await this.#armSafetyNet(Date.parse(oldest!.createdAt) + SAFETY_NET_MS);
      return;
    }
    // The next check is set before sending: a send that fails, or a handler that dies, leaves it armed.
    this.#resends++;
    this.ctx.storage.kv.put(RESENDS_KEY, this.#resends);
    await this.#armSafetyNet(nextCheck(now, this.#resends));
    await this.#send(owner, due);
  }

  /**
   * An old-named ledger's side of the move: answers its history to the successor `to` (again, if
   * asked again: the successor may have crashed before committing) and forwards from now on.
   */
  handOver(key: LedgerKey, to: string): HandOver | null {
    // Read from storage, not memory: rare, and the one answer that must be exactly what is stored.
    const kv = this.ctx.storage.kv;
    if (!this.#owns(kv.get<Owner>(OWNER_KEY), key.organizationId, key.identifier) || (this.#movedTo && this.#movedTo !== to)) return null;
    if (!this.#movedTo) {
      kv.put(MOVED_TO_KEY, to);
      this.#movedTo = to;
    }
    return { records: this.#history.all(), fedThrough: kv.get<number>(FED_THROUGH_KEY) ?? 0 };
  }

  /** The successor committed the history: the old ledger keeps nothing of it but where it went. */
  async release(to: string): Promise<void> {
    if (this.#movedTo !== to) return;
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("DELETE FROM events");
      for (const key of [OWNER_KEY, FED_THROUGH_KEY, RESENDS_KEY]) this.ctx.storage.kv.delete(key);
    });
    this.#owner = undefined;
    this.#lastSequence = this.#fedThrough = 0;
    this.#armed = false;
    await this.ctx.storage.deleteAlarm();
  }

  /** Whether the history, or an erased generation of it, holds the event its sender identified as `eventId`. */
  #holds(eventId: string): boolean {
    return this.#history.byEventId(eventId) !== null || (this.#erasures.length > 0 && erasedEventHeld(this.ctx.storage.sql, this.#hashedEventId(eventId)));
  }

  /** A sender's event id as an erased stub keeps it: keyed, domain-separated from every other keyed hash. */
  #hashedEventId(eventId: string): string {
    return keyedHash(this.#identifierKey(), `erased-event-id\u0000${eventId}`);
  }

  #erasureOf(record: ErasureRecord, identifierHash: string): Erasure {
    return { ...record, identifierHash, stub: stubOf(this.ctx.storage.sql, record.generation) };
  }

  /** Hands the latest erasure to D1, unless it has it already; a failure is logged, and the armed alarm tries again. */
  async #eraseFromFeed(): Promise<void> {
    const pending = this.ctx.storage.kv.get<FeedErasure>(FEED_ERASURE_KEY);
    if (!pending) return;
    try {
      await eraseFromFeed(this.env.DB, pending);
      // Its identifiers were the last personal data the ledger held of the erased generation.
      this.ctx.storage.kv.delete(FEED_ERASURE_KEY);
    } catch (error) {
      log(this.env, "warn", "D1 refused an erasure; the alarm will try again", { ledger: this.ctx.id.toString(), ...errorFields(error) });
    }
  }

  /** The one ownership check: whether `owner` is the history of this organization (and identifier, when given). */
  #owns(owner: Owner | undefined, organizationId: string, identifier?: string): owner is Owner {
    return owner !== undefined && owner.organizationId === organizationId && (identifier === undefined || owner.identifier === identifier);
  }

  /** Creates the storage and names the owner (inside the first write's transaction). */
  #claim(owner: Owner) {
    createSchema(this.ctx.storage);
    this.ctx.storage.kv.put(OWNER_KEY, owner);
  }

  /**
   * Looks, once per start of an ownerless ledger, for the ledger the same identifier had under the
   * old naming, and takes its history over (sequences, watermark and all). Concurrency is blocked
   * meanwhile, so nothing is appended before the history it follows.
   */
  async #adopt(key: LedgerAddress): Promise<void> {
    if (settings(this.env).LEGACY_LEDGERS !== "adopt") {
      this.#adoptionChecked = true;
      return;
    }
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.#owner || this.#adoptionChecked) return;
      const legacyKey = { organizationId: key.organizationId, identifier: key.legacyIdentifier ?? key.identifier };
      const legacyId = this.env.IDENTIFIER_LEDGER.idFromName(legacyLedgerName(legacyKey));
      if (!legacyId.equals(this.ctx.id)) {
        const legacy = this.env.IDENTIFIER_LEDGER.get(legacyId);
        const handed = await legacy.handOver(legacyKey, this.ctx.id.toString());
        if (handed && handed.records.length > 0) this.#takeOver(ownerOf(key), handed);
        if (handed) await legacy.release(this.ctx.id.toString());
      }
      this.#adoptionChecked = true;
    });
    if (this.pendingCount() > 0) await this.#armSafetyNet();
  }

  #takeOver(owner: Owner, { records, fedThrough }: HandOver) {
    this.ctx.storage.transactionSync(() => {
      this.#claim(owner);
      for (const record of records) this.#history.insert(record);
      this.ctx.storage.kv.put(FED_THROUGH_KEY, fedThrough);
    });
    const last = records.at(-1)!;
    this.#owner = owner;
    this.#lastSequence = last.sequence;
    this.#lastCreatedAt = Date.parse(last.createdAt);
    this.#lastHash = last.hash;
    this.#fedThrough = fedThrough;
    log(this.env, "info", "adopted an old-named ledger", { ledger: this.ctx.id.toString(), events: records.length });
  }

  /** The key of identifier hashes and commitments. */
  #identifierKey(): string {
    return identifierKey(this.env);
  }

  /** The owner's keyed identifier hash (computed for owners recorded before it was kept). */
  #identifierHashOf(owner: Owner): string {
    return owner.identifierHash ?? identifierHash(this.#identifierKey(), owner.organizationId, owner.identifier);
  }

  /** The ledger this one moved to. */
  #successor() {
    return this.env.IDENTIFIER_LEDGER.get(this.env.IDENTIFIER_LEDGER.idFromString(this.#movedTo!));
  }

  async #armSafetyNet(at = Date.now() + SAFETY_NET_MS) {
    if (this.#armed) return;
    // Armed before the await, so interleaving appends do not set it again.
    this.#armed = true;
    try {
      await this.ctx.storage.setAlarm(at);
    } catch (error) {
      this.#armed = false;
      throw error;
    }
  }

  /** Sends outbox events to the feed queue; a refusal is logged, and the armed alarm tries again. */
  async #send(owner: Owner, records: ReturnType<History["after"]>) {
    const ledger = this.ctx.id.toString();
    try {
      const identifierHash = this.#identifierHashOf(owner);
      const entries = records.map((record) => this.#feedEntry(owner, identifierHash, record));
      for (const batch of feedBatches(entries)) {
        await this.env.FEED_QUEUE.sendBatch(batch.map((body) => ({ body })));
      }
    } catch (error) {
      log(this.env, "warn", "feed queue refused the outbox", { ledger, attempt: this.#resends, ...errorFields(error) });
    }
  }

  /** A stored event on its way to the feed, with whose it is and which generation of the history. */
  #feedEntry(owner: Owner, identifierHash: string, record: EventRecord): FeedEntry {
    return { organizationId: owner.organizationId, identifier: owner.identifier, identifierHash, ...record, ledger: this.ctx.id.toString(), generation: this.#generation };
  }

  /** Keeps the in-memory counters in step with a committed append. */
  #remember({ sequence, createdAt, hash }: Pick<FeedEntry, "sequence" | "createdAt" | "hash">) {
    this.#lastSequence = sequence;
    this.#lastCreatedAt = Date.parse(createdAt);
    this.#lastHash = hash;
  }

  /** Numbers and stores one event (beyond the watermark: in the outbox); runs inside a synchronous transaction and leaves memory to `#remember`. */
  #appendNow(owner: Owner, event: EventText, eventId: string | null = null): FeedEntry {
    const sequence = this.#lastSequence + 1;
    // Never earlier than the previous event, so time order agrees with sequence order.
    const createdAt = new Date(Math.max(Date.now(), this.#lastCreatedAt)).toISOString();
    const chainOwner = { organizationId: owner.organizationId, identifierHash: this.#identifierHashOf(owner) };
    const stored = { sequence, type: event.type, topic: event.topic, source: event.source, meta: event.meta, createdAt, occurredAt: event.occurredAt ?? null };
    // The first event after an erasure says so, in its link too.
    const proof = sequence === 1 && this.#generation > 1 ? { ...event.proof, follows_erasure: true as const } : event.proof;
    // Linked in the same synchronous transaction that numbers it: nothing can come between.
    const record: EventRecord = {
      ...stored,
      ...chainFields(this.#identifierKey(), chainOwner, this.#lastHash, stored, proof),
      proof: proof === null ? null : JSON.stringify(proof),
    };
    this.#history.insert(record, eventId, event.idempotencyRecord ?? null);
    return this.#feedEntry(owner, chainOwner.identifierHash, record);
  }

  /**
   * Checks and appends in one synchronous transaction, so no other request can slip in between:
   * `decide` answers the status and, if the link should record something, the event to append.
   */
  async #appendUnless<S extends string>(scope: LinkScope, decide: () => { status: S; append?: EventText }): Promise<LinkView<S | "unknown">> {
    const view = this.ctx.storage.transactionSync(() =>
      this.#asOwnerOf(scope, (owner): LinkView<S> => {
        const { status, append } = decide();
        return append ? { status, appended: this.#appendNow(owner, append) } : { status };
      }),
    );
    if (view.appended) {
      this.#remember(view.appended);
      await this.#armSafetyNet();
    }
    return view;
  }

  /** Runs `action` for a link of `scope`; a ledger of another organization, of another generation (erased since), or of none is "unknown". */
  #asOwnerOf<S>(scope: LinkScope, action: (owner: Owner) => LinkView<S>): LinkView<S | "unknown"> {
    return this.#reaches(scope) ? { ...action(this.#owner!), identifier: this.#owner!.identifier } : { status: "unknown" };
  }

  /** Whether a link of `scope` reaches this history: its organization's, and not erased since the link was signed. */
  #reaches({ organizationId, generation }: LinkScope): boolean {
    return this.#owns(this.#owner, organizationId) && generation === this.#generation;
  }
}
