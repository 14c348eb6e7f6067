import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { IdentifierLedger } from "../../src/storage/ledger/identifier-ledger";
import { LEDGER_MIGRATIONS } from "../../src/storage/ledger/schema";
import { captureConsole } from "../helpers/console";
import { signLink } from "../../src/consent/link-token";
import type { FeedEntry } from "../../src/storage/event-record";
import { call, list, publish, uniqueEmail } from "../helpers/gateway";
import { ageEvents, capturingQueue, fedRows, ledgerOf, publishWith, storedSequence } from "../helpers/ledger";

const ORG = "org-acme";
const FED = { timeout: 10_000 };

describe("ordering", () => {
  it("numbers 100 concurrent publishes to one identifier gaplessly, each exactly once, and D1 gets the same history", async () => {
    const identifier = uniqueEmail("busy");
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, n) => publish({ type: n % 3 ? "OPT_IN" : "OPT_OUT", topic: "T", identifier, meta: { n } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(201));

    const stored = await storedSequence((await ledgerOf(ORG, identifier)).stub);
    expect(stored.map((e) => e.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const ns = stored.map((e) => JSON.parse(e.meta).n as number);
    expect([...ns].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));

    // The API answers the same order, newest first, across pages without overlap.
    const pages = await Promise.all([0, 50].map(async (from) => (await list(identifier, `?limit=50&from=${from}`)).json<any>()));
    expect(pages.flatMap((p) => p.events.map((e: any) => e.meta.n))).toEqual([...ns].reverse());
    const times = pages.flatMap((p) => p.events.map((e: any) => e.created_at));
    expect([...times].sort().reverse()).toEqual(times);

    // The index pipeline brings D1 the same history under the same numbers, and empties the outbox.
    await vi.waitFor(async () => expect(await fedRows(ORG, identifier)).toHaveLength(100), FED);
    const rows = await fedRows(ORG, identifier);
    expect(rows.map((r) => [r.sequence, r.meta])).toEqual(stored.map((e) => [e.sequence, e.meta]));
    await vi.waitFor(async () => expect(await (await ledgerOf(ORG, identifier)).stub.pendingCount()).toBe(0), FED);
  });

  it("keeps the sequence gapless across a restart: a new instance reads its counters from storage", async () => {
    const identifier = uniqueEmail("restarted");
    const { stub, key } = await ledgerOf(ORG, identifier);
    await Promise.all(Array.from({ length: 10 }, (_, n) => publish({ type: "OPT_IN", topic: "T", identifier, meta: { n } })));
    // What the runtime does after an eviction: a new instance over the same storage.
    const sequences = await runInDurableObject(stub, async (_: IdentifierLedger, state) => {
      const restarted = new IdentifierLedger(state, env);
      await restarted.started;
      return Promise.all(
        Array.from({ length: 10 }, async (_, n) => (await restarted.append(key, { type: "OPT_OUT", topic: "T", source: null, meta: JSON.stringify({ n: 10 + n }), proof: null })).sequence),
      );
    });
    expect(sequences.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));
    expect((await storedSequence(stub)).map((e) => e.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

/** The events table's columns and indexes, as SQLite describes them. */
const eventColumns = (state: DurableObjectState) => ({
  columns: state.storage.sql.exec("SELECT name, type, \"notnull\", pk FROM pragma_table_info('events')").toArray(),
  indexes: state.storage.sql.exec("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name").toArray(),
});

describe("versioned storage", () => {
  it("an object holding the unversioned schema and events opens, migrates, and keeps every event", async () => {
    const identifier = uniqueEmail("old-schema");
    const { stub, key } = await ledgerOf(ORG, identifier);
    const outcome = await runInDurableObject(stub, async (_: IdentifierLedger, state) => {
      // The storage as the release before versioning left it: owner in a `ledger` table, no version.
      for (const name of state.storage.kv.list()) state.storage.kv.delete(name[0]);
      state.storage.sql.exec(`
        CREATE TABLE ledger (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE events (sequence INTEGER PRIMARY KEY, type TEXT NOT NULL, topic TEXT NOT NULL, source TEXT, meta TEXT, created_at TEXT NOT NULL);
        CREATE TABLE outbox (sequence INTEGER PRIMARY KEY);
        INSERT INTO events (sequence, type, topic, source, meta, created_at) VALUES
          (1, 'OPT_IN', 'NEWS', 'form', '{"old":1}', '2026-01-01T00:00:00.000Z'),
          (2, 'OPT_OUT', 'NEWS', NULL, NULL, '2026-01-02T00:00:00.000Z');
        INSERT INTO outbox (sequence) VALUES (2);
      `);
      state.storage.sql.exec("INSERT INTO ledger (key, value) VALUES ('organization_id', ?), ('identifier', ?)", key.organizationId, key.identifier);

      // The new release starts on it: it migrates, knows its owner, and keeps every event.
      const upgraded = new IdentifierLedger(state, env);
      await upgraded.started;
      const history = await upgraded.list(key, { limit: 10, offset: 0 });
      const next = await upgraded.append(key, { type: "OPT_IN", topic: "NEWS", source: null, meta: null, proof: null });
      return {
        history,
        next: next.sequence,
        pending: upgraded.pendingCount(),
        version: state.storage.kv.get("schema_version"),
        tables: state.storage.sql
          .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('ledger', 'events', 'outbox') ORDER BY name")
          .toArray()
          .map((t) => t.name),
        columns: eventColumns(state),
      };
    });
    // Migrated, it has the very table a new history is created with (in one statement, not by the migrations).
    const fresh = await ledgerOf(ORG, uniqueEmail("new-schema"));
    await fresh.stub.append(fresh.key, { type: "OPT_IN", topic: "NEWS", source: null, meta: null, proof: null });
    expect(outcome.columns).toEqual(await runInDurableObject(fresh.stub, (_: IdentifierLedger, state) => eventColumns(state)));
    // Migrated to the chain: every event linked to the one before.
    const linked = { hash: expect.stringMatching(/^[0-9a-f]{64}$/), prevHash: expect.stringMatching(/^[0-9a-f]{64}$/), commitments: expect.any(String), proof: null, occurredAt: null };
    expect(outcome.history.records[0]!.prevHash).toBe(outcome.history.records[1]!.hash);
    expect(outcome.history).toEqual({
      total: 2,
      more: false,
      records: [
        { sequence: 2, type: "OPT_OUT", createdAt: "2026-01-02T00:00:00.000Z", topic: "NEWS", source: null, meta: null, ...linked },
        { sequence: 1, type: "OPT_IN", createdAt: "2026-01-01T00:00:00.000Z", topic: "NEWS", source: "form", meta: '{"old":1}', ...linked, prevHash: null },
      ],
    });
    // All three are owed to the feed: the chain migration sends the old ones again, with their links.
    expect(outcome).toMatchObject({ next: 3, pending: 3, version: LEDGER_MIGRATIONS.length, tables: ["events"] });
  });
});

describe("the safety net", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Runs the object's alarm handler in an instance whose feed queue is `queue` (the real binding, wrapped by the test). */
  const alarmWith = (stub: DurableObjectStub<IdentifierLedger>, queue: Queue<FeedEntry>) =>
    runInDurableObject(stub, async (_: IdentifierLedger, state) => {
      const instance = new IdentifierLedger(state, { ...env, FEED_QUEUE: queue });
      await instance.started;
      await instance.alarm();
      return state.storage.getAlarm();
    });

  it("keeps events the queue refused in the outbox, and the alarm re-sends them until the queue takes them", async () => {
    const identifier = uniqueEmail("refused");
    const { stub } = await ledgerOf(ORG, identifier);
    const refusing = capturingQueue({ refusing: true });
    const logs = captureConsole();
    for (let n = 0; n < 3; n++) expect((await publishWith({ FEED_QUEUE: refusing.binding }, { type: "OPT_IN", topic: "T", identifier, meta: { n } })).status).toBe(201);
    expect(logs.lines().filter((line) => line.includes("the queue refuses sends (injected fault)"))).toHaveLength(3);
    expect(await stub.pendingCount()).toBe(3);

    // Before the pipeline's allowance is over, the alarm sends nothing: the events may be on their way.
    await alarmWith(stub, refusing.binding);
    expect(logs.lines().filter((line) => line.includes("feed queue refused the outbox"))).toHaveLength(0);
    // Later, the alarm re-sends; while the queue refuses, it backs off and keeps everything.
    await ageEvents(stub, 60_000);
    const next = await alarmWith(stub, refusing.binding);
    expect(await stub.pendingCount()).toBe(3);
    expect(next! - Date.now()).toBeGreaterThan(30_000);
    expect(logs.lines().filter((line) => line.includes("feed queue refused the outbox"))).toHaveLength(1);
    expect(logs.lines().filter((line) => !line.includes("injected fault"))).toEqual([]);

    // The queue takes them: all three, in order, and nothing else.
    refusing.queue.refusing = false;
    await alarmWith(stub, refusing.binding);
    expect(refusing.sent.map((e) => [e.identifier, e.sequence, e.meta])).toEqual([0, 1, 2].map((n) => [identifier, n + 1, `{"n":${n}}`]));
    // Until the consumer acknowledges, the outbox keeps them and the alarm stands by.
    expect(await stub.pendingCount()).toBe(3);
    await stub.fed(3);
    expect(await stub.pendingCount()).toBe(0);
    expect(await runInDurableObject(stub, (_: IdentifierLedger, state) => state.storage.getAlarm())).toBeNull();
  });

  it("sends an event at most ~10 times over an hour of D1 outage: each re-send waits longer, from the last send", async () => {
    const identifier = uniqueEmail("outage");
    const { stub } = await ledgerOf(ORG, identifier);
    const captured = capturingQueue();
    // D1 is down: the queue takes the sends, nothing is ever acknowledged.
    expect((await publishWith({ FEED_QUEUE: captured.binding }, { type: "OPT_IN", topic: "T", identifier })).status).toBe(201);
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    let alarm = await runInDurableObject(stub, (_: IdentifierLedger, state) => state.storage.getAlarm());
    while (alarm !== null && alarm <= start + 60 * 60_000) {
      // The controlled clock moves to the alarm's time, and the alarm fires.
      vi.setSystemTime(alarm);
      alarm = await alarmWith(stub, captured.binding);
    }
    expect(captured.sent.length - 1).toBeGreaterThanOrEqual(5);
    expect(captured.sent.length - 1).toBeLessThanOrEqual(10);
    expect(captured.sent.every((e) => e.sequence === 1)).toBe(true);
    // Still armed, still pending: nothing is given up.
    expect(alarm).not.toBeNull();
    expect(await stub.pendingCount()).toBe(1);
  });

  it("an alarm handler cut off while it sends (an isolate torn down) has already armed the next check", async () => {
    const identifier = uniqueEmail("alarm-cut-off");
    const { stub } = await ledgerOf(ORG, identifier);
    expect((await publishWith({ FEED_QUEUE: capturingQueue().binding }, { type: "OPT_IN", topic: "T", identifier })).status).toBe(201);
    await ageEvents(stub, 60_000);
    const logs = captureConsole();
    const during = await runInDurableObject(stub, async (_: IdentifierLedger, state) => {
      await state.storage.deleteAlarm();
      let sending!: () => void;
      let cutOff!: () => void;
      const sent = new Promise<void>((resolve) => (sending = resolve));
      const end = new Promise<void>((resolve) => (cutOff = resolve));
      // The send starts and never succeeds: the handler is cut off inside it.
      const hanging = {
        sendBatch: async () => {
          sending();
          await end;
          throw new Error("the isolate went away (injected fault)");
        },
      } as unknown as Queue<FeedEntry>;
      const instance = new IdentifierLedger(state, { ...env, FEED_QUEUE: hanging });
      await instance.started;
      await state.storage.deleteAlarm();
      const running = instance.alarm();
      await sent;
      const alarm = await state.storage.getAlarm();
      cutOff();
      await running;
      return alarm;
    });
    expect(during).toBeGreaterThan(Date.now() + 30_000);
    expect(await stub.pendingCount()).toBe(1);
    expect(logs.lines().every((line) => line.includes("injected fault"))).toBe(true);
  });

  it("arms itself when it starts with events D1 may lack and no alarm (one lost before a crash)", async () => {
    const identifier = uniqueEmail("unarmed");
    const { stub } = await ledgerOf(ORG, identifier);
    expect((await publishWith({ FEED_QUEUE: capturingQueue().binding }, { type: "OPT_IN", topic: "T", identifier })).status).toBe(201);
    const alarm = await runInDurableObject(stub, async (_: IdentifierLedger, state) => {
      await state.storage.deleteAlarm();
      const restarted = new IdentifierLedger(state, env);
      await restarted.started;
      return { pending: restarted.pendingCount(), alarm: await state.storage.getAlarm() };
    });
    expect(alarm.pending).toBe(1);
    expect(alarm.alarm).toBeGreaterThan(Date.now());
  });
});

/** What an object stored: its tables (the runtime's own `_cf_` ones aside) and its key-value entries. */
const written = (stub: DurableObjectStub<IdentifierLedger>) =>
  runInDurableObject(stub, (_: IdentifierLedger, state) => ({
    tables: state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'")
      .toArray()
      .map((t) => t.name),
    entries: [...state.storage.kv.list()].map(([key]) => key),
  }));

describe("ledger names", () => {
  it("are the keyed hash of organization and normalised identifier: no object name carries the identifier", async () => {
    const identifier = uniqueEmail("Named");
    const { id, key } = await ledgerOf(ORG, identifier);
    const hmac = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.IDENTIFIER_KEY), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(JSON.stringify([ORG, identifier.toLowerCase()]))));
    const name = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(id.equals(env.IDENTIFIER_LEDGER.idFromName(name))).toBe(true);
    expect(id.equals(env.IDENTIFIER_LEDGER.idFromName(JSON.stringify([ORG, key.identifier])))).toBe(false);
    // The owner records the identifier rules it was normalised under.
    expect((await publish({ type: "OPT_IN", topic: "T", identifier })).status).toBe(201);
    expect(await runInDurableObject(env.IDENTIFIER_LEDGER.get(id), (_: IdentifierLedger, state) => state.storage.kv.get("owner"))).toEqual({ ...key, rules: 2 });
  });
});

describe("reads leave nothing behind", () => {
  it("listing, and link checks of, an identifier never seen write nothing to its object (or the object of its old name)", async () => {
    const identifier = uniqueEmail("never-seen");
    const { stub, key } = await ledgerOf(ORG, identifier);
    expect((await list(identifier)).status).toBe(200);
    expect(await stub.optInStatus({ organizationId: ORG, generation: 1 }, 1, "T")).toEqual({ status: "unknown" });
    expect(await stub.optOutStatus({ organizationId: ORG, generation: 1 }, "T")).toEqual({ status: "unknown" });
    expect(await stub.pendingCount()).toBe(0);
    expect(await written(stub)).toEqual({ tables: [], entries: [] });
    expect(await written(env.IDENTIFIER_LEDGER.get(env.IDENTIFIER_LEDGER.idFromName(JSON.stringify([key.organizationId, key.identifier]))))).toEqual({ tables: [], entries: [] });
  });
});

describe("ledgers named the old way", () => {
  /** A ledger as releases before 0.2 left it: named by the JSON pair, holding `events`, with `fedThrough` acknowledged. */
  async function oldLedger(identifier: string, events: { type: string; topic: string; meta?: object }[], fedThrough: number) {
    const stub = env.IDENTIFIER_LEDGER.get(env.IDENTIFIER_LEDGER.idFromName(JSON.stringify([ORG, identifier])));
    await runInDurableObject(stub, (_: IdentifierLedger, state) => {
      state.storage.sql.exec("CREATE TABLE events (sequence INTEGER PRIMARY KEY, type TEXT NOT NULL, topic TEXT NOT NULL, source TEXT, meta TEXT, created_at TEXT NOT NULL)");
      events.forEach((e, i) =>
        state.storage.sql.exec(
          "INSERT INTO events VALUES (?, ?, ?, 'old-form', ?, ?)",
          i + 1,
          e.type,
          e.topic,
          e.meta ? JSON.stringify(e.meta) : null,
          new Date(Date.UTC(2026, 0, i + 1)).toISOString(),
        ),
      );
      state.storage.kv.put("owner", { organizationId: ORG, identifier });
      state.storage.kv.put("indexed_through", fedThrough);
      state.storage.kv.put("schema_version", 3);
      // The new release starts over that storage and migrates it (as it does when the object wakes).
      return new IdentifierLedger(state, env).started;
    });
    return stub;
  }

  it("are taken over on first access: history, outbox and links keep working, and the old object keeps no personal data", async () => {
    const identifier = uniqueEmail("old-name");
    const old = await oldLedger(
      identifier,
      [
        { type: "OPT_IN", topic: "NEWS", meta: { n: 1 } },
        { type: "DOUBLE_OPT_IN_REQUESTED", topic: "NEWSLETTER" },
      ],
      1,
    );
    // A link the old release signed names the old object.
    const { token } = await signLink(
      { purpose: "opt-in", organizationId: ORG, ledgerId: old.id.toString(), topic: "NEWSLETTER", requestSequence: 2 },
      { current: env.OPT_IN_SIGNING_KEY, previous: [] },
      { ttlSeconds: 86_400 },
    );

    const logs = captureConsole();
    // First access through the new name: the history is there, numbered as before.
    const listed = await (await list(identifier)).json<any>();
    expect(listed.total).toBe(2);
    expect(listed.events.map((e: any) => e.type)).toEqual(["DOUBLE_OPT_IN_REQUESTED", "OPT_IN"]);
    expect(listed.events[1].meta).toEqual({ n: 1 });
    const { stub } = await ledgerOf(ORG, identifier);
    // The outbox moved too: migrated to the chain, both events are owed to the feed again (with their
    // links), and the new ledger's safety net has them.
    expect(await stub.pendingCount()).toBe(2);
    expect(await runInDurableObject(stub, (_: IdentifierLedger, state) => state.storage.getAlarm())).not.toBeNull();

    // The old link confirms through the old object, which forwards to the new ledger.
    const confirmed = await call(`/v1/opt-in/${token}`, { method: "POST", headers: { Accept: "application/json" } });
    expect(confirmed.status).toBe(200);
    expect((await confirmed.json<any>()).outcome).toBe("confirmed");
    expect((await publish({ type: "OPT_OUT", topic: "NEWS", identifier })).status).toBe(201);
    expect((await storedSequence(stub)).map((e) => e.sequence)).toEqual([1, 2, 3, 4]);

    // The old object keeps only where its history went.
    const left = await written(old);
    expect(left.entries.sort()).toEqual(["moved_to", "schema_version"]);
    expect(await runInDurableObject(old, (_: IdentifierLedger, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n)).toBe(0);
    // And the feed receives the whole history under the same identifier, in order (events 1 and 2,
    // which this D1 lacks, are sent as soon as the consumer finds event 3 waiting for them).
    await vi.waitFor(async () => expect((await fedRows(ORG, identifier)).map((r) => r.sequence)).toEqual([1, 2, 3, 4]), { timeout: 10_000 });
    expect(logs.lines()).toEqual([expect.stringContaining("adopted an old-named ledger")]);
  });

  it("are found by the spelling the old rules gave the identifier, where the new rules spell it otherwise", async () => {
    // The old rules kept `+Team@…` as typed (a phone rule), the new ones lower-case it (an e-mail address).
    const typed = `+Team-${crypto.randomUUID().slice(0, 8)}@Example.com`;
    const old = await oldLedger(typed.replace(/-/g, ""), [{ type: "OPT_OUT", topic: "NEWS" }], 1);
    const logs = captureConsole();
    const listed = await (await list(typed)).json<any>();
    expect(listed.events.map((e: any) => [e.seq, e.type, e.identifier])).toEqual([[1, "OPT_OUT", typed.toLowerCase()]]);
    expect(logs.lines()).toEqual([expect.stringContaining("adopted an old-named ledger")]);
    expect((await written(old)).entries.sort()).toEqual(["moved_to", "schema_version"]);
  });

  it("a moved ledger forwards what an older worker still sends it, and takes nothing itself", async () => {
    const identifier = uniqueEmail("moved");
    const old = await oldLedger(identifier, [{ type: "OPT_IN", topic: "NEWS" }], 1);
    const logs = captureConsole();
    expect((await list(identifier)).status).toBe(200);
    const { key, stub } = await ledgerOf(ORG, identifier);
    const appended = await old.append(key, { type: "OPT_OUT", topic: "NEWS", source: null, meta: null, proof: null });
    expect(appended.sequence).toBe(2);
    expect((await storedSequence(stub)).map((e) => e.sequence)).toEqual([1, 2]);
    expect((await old.list(key, { limit: 10, offset: 0 })).total).toBe(2);
    expect(logs.lines()).toEqual([expect.stringContaining("adopted an old-named ledger")]);
  });
});
