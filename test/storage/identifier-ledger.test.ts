import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { IdentifierLedger } from "../../src/storage/identifier-ledger";
import { captureConsole } from "../helpers/console";
import { list, publish, uniqueEmail } from "../helpers/gateway";
import { flakyD1, indexedRows, ledgerOf, storedSequence } from "../helpers/ledger";

const ORG = "org-acme";

/** The ledger logs each failed D1 write with its error: the injected one's message, whatever the line's format. */
const INJECTED = /D1 is unavailable \(injected fault\)/;

describe("ordering", () => {
  it("numbers 100 concurrent publishes to one identifier gaplessly, each exactly once", async () => {
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
    const listed = pages.flatMap((p) => p.events.map((e: any) => e.meta.n));
    expect(listed).toEqual([...ns].reverse());
    const times = pages.flatMap((p) => p.events.map((e: any) => e.created_at));
    expect([...times].sort().reverse()).toEqual(times);

    // D1 receives the same history under the same sequence numbers.
    await vi.waitFor(async () => expect(await indexedRows(ORG, identifier)).toHaveLength(100), { timeout: 10_000 });
    const rows = await indexedRows(ORG, identifier);
    expect(rows.map((r) => [r.sequence, JSON.parse(r.meta!).n])).toEqual(stored.map((e) => [e.sequence, JSON.parse(e.meta).n]));
  });
});

describe("the D1 outbox", () => {
  it("feeds D1 shortly after each publish", async () => {
    const identifier = uniqueEmail();
    await publish({ type: "OPT_IN", topic: "NEWS", identifier, meta: { via: "test" } });
    await vi.waitFor(async () =>
      expect(await indexedRows(ORG, identifier)).toEqual([{ sequence: 1, type: "OPT_IN", topic: "NEWS", meta: '{"via":"test"}' }]),
    );
  });

  it("loses nothing while D1 fails, and delivers everything once it recovers", async () => {
    const identifier = uniqueEmail("outage");
    const { stub } = ledgerOf(ORG, identifier);
    const fault = { failing: false, attempts: 0 };
    await runInDurableObject(stub, (ledger: IdentifierLedger) => {
      ledger.indexDb = flakyD1(ledger.indexDb, fault);
    });
    const logs = captureConsole();

    // Healthy D1 first, then an outage in the middle of a stream of publishes.
    for (let n = 0; n < 5; n++) expect((await publish({ type: "OPT_IN", topic: "T", identifier, meta: { n } })).status).toBe(201);
    await vi.waitFor(async () => expect(await indexedRows(ORG, identifier)).toHaveLength(5));
    fault.failing = true;
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, i) => publish({ type: "OPT_OUT", topic: "T", identifier, meta: { n: 5 + i } })),
    );
    expect(during.map((r) => r.status)).toEqual(Array(20).fill(201));

    // Acknowledged events are readable at once from the identifier's own ledger.
    const history = await (await list(identifier, "?limit=100")).json<any>();
    expect(history.total).toBe(25);

    // D1 is behind; the alarm keeps retrying with growing delays.
    await vi.waitFor(() => expect(fault.attempts).toBeGreaterThan(0));
    expect(await indexedRows(ORG, identifier)).toHaveLength(5);
    expect(await stub.pendingCount()).toBe(20);
    await runDurableObjectAlarm(stub);
    const { alarm, failures } = await runInDurableObject(stub, async (_: IdentifierLedger, state) => ({
      alarm: await state.storage.getAlarm(),
      failures: state.storage.sql.exec<{ value: string }>("SELECT value FROM ledger WHERE key = 'flush_failures'").one().value,
    }));
    expect(Number(failures)).toBeGreaterThanOrEqual(2);
    expect(alarm).toBeGreaterThan(Date.now() + 1000);
    expect(await stub.pendingCount()).toBe(20);
    // Each failed attempt was logged with its error, and nothing else was.
    expect(logs.lines().filter((line) => INJECTED.test(line))).toHaveLength(Number(failures));
    expect(logs.lines().filter((line) => !INJECTED.test(line))).toEqual([]);

    // Recovery: the next alarm delivers the backlog exactly once.
    fault.failing = false;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await indexedRows(ORG, identifier);
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await stub.pendingCount()).toBe(0);
    const stored = await storedSequence(stub);
    expect(rows.map((r) => r.meta)).toEqual(stored.map((e) => e.meta));
  });

  it("drains a backlog larger than one batch over consecutive alarms", async () => {
    const identifier = uniqueEmail("backlog");
    const { stub } = ledgerOf(ORG, identifier);
    const fault = { failing: true, attempts: 0 };
    await runInDurableObject(stub, (ledger: IdentifierLedger) => {
      ledger.indexDb = flakyD1(ledger.indexDb, fault);
    });
    const logs = captureConsole();
    for (let batch = 0; batch < 3; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => publish({ type: "OPT_IN", topic: "T", identifier, meta: { n: batch * 50 + i } })));
    }
    // The first publish's alarm has tried D1 and failed (logged), delivering nothing.
    await vi.waitFor(() => expect(logs.lines().some((line) => INJECTED.test(line))).toBe(true));
    expect(fault.attempts).toBeGreaterThan(0);
    expect(await stub.pendingCount()).toBe(150);
    fault.failing = false;
    await runDurableObjectAlarm(stub);
    await vi.waitFor(async () => expect(await indexedRows(ORG, identifier)).toHaveLength(150), { timeout: 10_000 });
    expect(await stub.pendingCount()).toBe(0);
    expect(logs.lines().filter((line) => !INJECTED.test(line))).toEqual([]);
  });

  it("is idempotent: re-sending events D1 already has changes nothing", async () => {
    const identifier = uniqueEmail();
    await publish({ type: "OPT_IN", topic: "T", identifier });
    await vi.waitFor(async () => expect(await indexedRows(ORG, identifier)).toHaveLength(1));
    const { stub } = ledgerOf(ORG, identifier);
    await runInDurableObject(stub, async (ledger: IdentifierLedger, state) => {
      state.storage.sql.exec("INSERT INTO outbox (sequence) VALUES (1)");
      await ledger.alarm();
    });
    expect(await indexedRows(ORG, identifier)).toHaveLength(1);
    expect(await stub.pendingCount()).toBe(0);
  });
});
