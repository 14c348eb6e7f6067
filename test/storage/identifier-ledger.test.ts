import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { IdentifierLedger } from "../../src/storage/identifier-ledger";
import { LEDGER_MIGRATIONS } from "../../src/storage/ledger-schema";
import { captureConsole } from "../helpers/console";
import { list, publish, uniqueEmail } from "../helpers/gateway";
import { ageEvents, capturingQueue, indexedRows, ledgerOf, publishWith, storedSequence } from "../helpers/ledger";

const ORG = "org-acme";
const INDEXED = { timeout: 10_000 };

describe("ordering", () => {
  it("numbers 100 concurrent publishes to one identifier gaplessly, each exactly once, and D1 gets the same history", async () => {
    const identifier = uniqueEmail("busy");
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, n) => publish({ type: n % 3 ? "OPT_IN" : "OPT_OUT", topic: "T", identifier, meta: { n } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(201));

    const stored = await storedSequence(ledgerOf(ORG, identifier).stub);
    expect(stored.map((e) => e.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const ns = stored.map((e) => JSON.parse(e.meta).n as number);
    expect([...ns].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));

    // The API answers the same order, newest first, across pages without overlap.
    const pages = await Promise.all([0, 50].map(async (from) => (await list(identifier, `?limit=50&from=${from}`)).json<any>()));
    expect(pages.flatMap((p) => p.events.map((e: any) => e.meta.n))).toEqual([...ns].reverse());
    const times = pages.flatMap((p) => p.events.map((e: any) => e.created_at));
    expect([...times].sort().reverse()).toEqual(times);

    // The index pipeline brings D1 the same history under the same numbers, and empties the outbox.
    await vi.waitFor(async () => expect(await indexedRows(ORG, identifier)).toHaveLength(100), INDEXED);
    const rows = await indexedRows(ORG, identifier);
    expect(rows.map((r) => [r.sequence, r.meta])).toEqual(stored.map((e) => [e.sequence, e.meta]));
    await vi.waitFor(async () => expect(await ledgerOf(ORG, identifier).ledger.pendingCount()).toBe(0), INDEXED);
  });

  it("keeps the sequence gapless across a restart: a new instance reads its counters from storage", async () => {
    const identifier = uniqueEmail("restarted");
    const { stub, key } = ledgerOf(ORG, identifier);
    await Promise.all(Array.from({ length: 10 }, (_, n) => publish({ type: "OPT_IN", topic: "T", identifier, meta: { n } })));
    // What the runtime does after an eviction: a new instance over the same storage.
    const sequences = await runInDurableObject(stub, async (_: IdentifierLedger, state) => {
      const restarted = new IdentifierLedger(state, env);
      await restarted.started;
      return Promise.all(Array.from({ length: 10 }, async (_, n) => (await restarted.append(key, { type: "OPT_OUT", topic: "T", meta: { n: 10 + n } })).sequence));
    });
    expect(sequences.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));
    expect((await storedSequence(stub)).map((e) => e.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe("versioned storage", () => {
  it("an object holding the unversioned schema and events opens, migrates, and keeps every event", async () => {
    const identifier = uniqueEmail("old-schema");
    const { stub, key } = ledgerOf(ORG, identifier);
    const outcome = await runInDurableObject(stub, async (_: IdentifierLedger, state) => {
      // The storage as the release before versioning left it: owner in a `ledger` table, no version.
      for (const name of state.storage.kv.list()) state.storage.kv.delete(name[0]);
      state.storage.sql.exec(`
        CREATE TABLE ledger (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
      const history = upgraded.list(key, { limit: 10, offset: 0 });
      const next = await upgraded.append(key, { type: "OPT_IN", topic: "NEWS" });
      return {
        history,
        next: next.sequence,
        pending: upgraded.pendingCount(),
        version: state.storage.kv.get("schema_version"),
        tables: state.storage.sql
          .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('ledger', 'events', 'outbox') ORDER BY name")
          .toArray()
          .map((t) => t.name),
      };
    });
    expect(outcome.history).toEqual({
      total: 2,
      events: [
        { type: "OPT_OUT", created_at: "2026-01-02T00:00:00.000Z", topic: "NEWS", organization_id: ORG, identifier },
        { type: "OPT_IN", created_at: "2026-01-01T00:00:00.000Z", topic: "NEWS", source: "form", organization_id: ORG, identifier, meta: { old: 1 } },
      ],
    });
    expect(outcome).toMatchObject({ next: 3, pending: 2, version: LEDGER_MIGRATIONS.length, tables: ["events"] });
  });
});

describe("the safety net", () => {
  it("keeps events the queue refused in the outbox, and the alarm re-sends them until the queue takes them", async () => {
    const identifier = uniqueEmail("refused");
    const { stub, ledger } = ledgerOf(ORG, identifier);
    const refusing = capturingQueue({ refusing: true });
    const logs = captureConsole();
    for (let n = 0; n < 3; n++) expect((await publishWith({ INDEX_QUEUE: refusing.binding }, { type: "OPT_IN", topic: "T", identifier, meta: { n } })).status).toBe(201);
    expect(logs.lines().filter((line) => line.includes("the queue refuses sends (injected fault)"))).toHaveLength(3);
    expect(await ledger.pendingCount()).toBe(3);

    // Before the pipeline's allowance is over, the alarm sends nothing: the events may be on their way.
    await runInDurableObject(stub, (instance: IdentifierLedger) => {
      instance.indexQueue = refusing.binding;
    });
    await runDurableObjectAlarm(stub);
    expect(logs.lines().filter((line) => line.includes("index queue refused the outbox"))).toHaveLength(0);
    // Later, the alarm re-sends; while the queue refuses, it backs off and keeps everything.
    await ageEvents(stub, 60_000);
    await runInDurableObject(stub, (instance: IdentifierLedger) => {
      instance.indexQueue = refusing.binding;
    });
    await runDurableObjectAlarm(stub);
    expect(await ledger.pendingCount()).toBe(3);
    const backoff = await runInDurableObject(stub, async (_: IdentifierLedger, state) => (await state.storage.getAlarm())! - Date.now());
    expect(backoff).toBeGreaterThan(30_000);
    expect(logs.lines().filter((line) => line.includes("index queue refused the outbox"))).toHaveLength(1);
    expect(logs.lines().filter((line) => !line.includes("injected fault"))).toEqual([]);

    // The queue takes them: all three, in order, and nothing else.
    refusing.queue.refusing = false;
    await runDurableObjectAlarm(stub);
    expect(refusing.sent.map((e) => [e.identifier, e.sequence, e.meta])).toEqual([0, 1, 2].map((n) => [identifier, n + 1, `{"n":${n}}`]));
    // Until the consumer acknowledges, the outbox keeps them and the alarm stands by.
    expect(await ledger.pendingCount()).toBe(3);
    await ledger.indexed(3);
    expect(await ledger.pendingCount()).toBe(0);
    expect(await runInDurableObject(stub, (_: IdentifierLedger, state) => state.storage.getAlarm())).toBeNull();
  });

  it("arms itself when it starts with events D1 may lack and no alarm (one lost before a crash)", async () => {
    const identifier = uniqueEmail("unarmed");
    const { stub } = ledgerOf(ORG, identifier);
    expect((await publishWith({ INDEX_QUEUE: capturingQueue().binding }, { type: "OPT_IN", topic: "T", identifier })).status).toBe(201);
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
