import { createExecutionContext, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { consumeFeedBatch } from "../../src/storage/feed/consumer";
import type { FeedEntry } from "../../src/storage/event-record";
import { captureConsole } from "../helpers/console";
import { list, publish, uniqueEmail } from "../helpers/gateway";
import { batchOf, capturingQueue, flakyD1, fedRows, ledgerOf, publishWith } from "../helpers/ledger";

const ORG = "org-acme";
const FED = { timeout: 10_000 };

/** Publishes `count` events for each of `people`, keeping what the worker hands to the index queue. */
async function publishCaptured(people: string[], count: number) {
  const captured = capturingQueue();
  for (let n = 0; n < count; n++) {
    await Promise.all(people.map((identifier) => publishWith({ FEED_QUEUE: captured.binding }, { type: "OPT_IN", topic: "Q", identifier, meta: { n } })));
  }
  return captured.sent;
}

/** Runs the consumer on `entries` as one delivery; answers what it acknowledged and retried. */
async function consume(entries: FeedEntry[], db: D1Database = env.DB) {
  const batch = batchOf(entries);
  const ctx = createExecutionContext();
  await consumeFeedBatch(batch, env, db);
  return getQueueResult(batch, ctx);
}

describe("the feed queue's consumer", () => {
  it("writes a batch across identifiers in one D1 call, acknowledges every message and empties the ledgers' outboxes", async () => {
    const people = Array.from({ length: 20 }, () => uniqueEmail("fan-in"));
    const entries = await publishCaptured(people, 5);
    expect(entries).toHaveLength(100);
    const fault = { failing: false, attempts: 0 };
    const result = await consume(entries, flakyD1(env.DB, fault));
    expect(fault.attempts).toBe(1);
    expect(result.explicitAcks).toHaveLength(100);
    expect(result.retryMessages).toEqual([]);
    for (const identifier of people) {
      expect((await fedRows(ORG, identifier)).map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5]);
      expect(await (await ledgerOf(ORG, identifier)).stub.pendingCount()).toBe(0);
    }
  });

  it("takes at most 15 D1 write calls per 1,000 events", async () => {
    // 1,000 events in the order concurrent publishes send them (one D1 call per delivered batch,
    // however many identifiers a batch spans): 50 people, 20 events each, interleaved.
    const people = await Promise.all(Array.from({ length: 50 }, () => ledgerOf(ORG, uniqueEmail("thousand"))));
    const entries = Array.from({ length: 20 }, (_, n) =>
      people.map(({ key: { organizationId, identifier, identifierHash }, id }): FeedEntry => ({
        organizationId,
        identifier,
        identifierHash,
        ledger: id.toString(),
        sequence: n + 1,
        type: "OPT_IN",
        topic: "Q",
        source: null,
        meta: null,
        createdAt: new Date().toISOString(),
        occurredAt: null,
        hash: null,
        prevHash: null,
        commitments: null,
        proof: null,
      })),
    ).flat();
    const fault = { failing: false, attempts: 0 };
    // The queue delivers in batches of max_batch_size (100, wrangler.toml).
    for (let i = 0; i < entries.length; i += 100) {
      expect((await consume(entries.slice(i, i + 100), flakyD1(env.DB, fault))).explicitAcks).toHaveLength(100);
    }
    const { results } = await env.DB.prepare("SELECT COUNT(*) AS n FROM consent_events WHERE identifier LIKE 'thousand-%'").all<{ n: number }>();
    expect(results[0]!.n).toBe(1000);
    expect(fault.attempts).toBeLessThanOrEqual(15);
  });

  it("ignores a redelivered message: no duplicates", async () => {
    const identifier = uniqueEmail("again");
    const entries = await publishCaptured([identifier], 3);
    await consume(entries);
    const again = await consume(entries);
    expect(again.explicitAcks).toHaveLength(3);
    expect((await fedRows(ORG, identifier)).map((r) => r.sequence)).toEqual([1, 2, 3]);
  });

  it("retries the whole batch while D1 fails, writing nothing; delivers it exactly once, in order, after recovery", async () => {
    const people = [uniqueEmail("outage-a"), uniqueEmail("outage-b")];
    const entries = await publishCaptured(people, 10);
    const fault = { failing: true, attempts: 0 };
    const logs = captureConsole();
    const failed = await consume(entries, flakyD1(env.DB, fault));
    expect(failed.retryBatch.retry).toBe(true);
    expect(failed.explicitAcks).toEqual([]);
    expect(logs.lines()).toEqual([expect.stringContaining("D1 is unavailable (injected fault)")]);
    for (const identifier of people) {
      expect(await fedRows(ORG, identifier)).toEqual([]);
      // The ledgers answer meanwhile, complete.
      expect((await (await list(identifier, "?limit=100")).json<any>()).total).toBe(10);
      expect(await (await ledgerOf(ORG, identifier)).stub.pendingCount()).toBe(10);
    }

    fault.failing = false;
    const recovered = await consume(entries, flakyD1(env.DB, fault));
    expect(recovered.explicitAcks).toHaveLength(20);
    for (const identifier of people) {
      const rows = await fedRows(ORG, identifier);
      expect(rows.map((r) => [r.sequence, JSON.parse(r.meta!).n])).toEqual(Array.from({ length: 10 }, (_, n) => [n + 1, n]));
      expect(await (await ledgerOf(ORG, identifier)).stub.pendingCount()).toBe(0);
    }
  });

  it("holds back an event whose predecessor has not landed, so the feed keeps each identifier's order", async () => {
    const identifier = uniqueEmail("out-of-order");
    const [first, second, third] = await publishCaptured([identifier], 3);
    // The queue delivers the later events first.
    const early = await consume([second!, third!]);
    expect(early.retryMessages).toHaveLength(2);
    expect(early.explicitAcks).toEqual([]);
    expect(await fedRows(ORG, identifier)).toEqual([]);
    expect(await (await ledgerOf(ORG, identifier)).stub.pendingCount()).toBe(3);

    await consume([first!]);
    await consume([second!, third!]);
    const { results } = await env.DB.prepare("SELECT sequence, position FROM consent_events WHERE organization_id = ? AND identifier = ? ORDER BY position")
      .bind(ORG, identifier)
      .all<{ sequence: number; position: number }>();
    expect(results.map((r) => r.sequence)).toEqual([1, 2, 3]);
    expect(await (await ledgerOf(ORG, identifier)).stub.pendingCount()).toBe(0);
  });

  it("heals a feed that lost rows (a D1 restore): the next event's ledger re-sends what D1 lacks, and the feed gets both", async () => {
    const identifier = uniqueEmail("restored");
    expect((await publish({ type: "OPT_IN", topic: "Q", identifier })).status).toBe(201);
    await vi.waitFor(async () => expect(await (await ledgerOf(ORG, identifier)).stub.pendingCount()).toBe(0), FED);
    // D1 loses the row its ledger counts as fed.
    await env.DB.prepare("DELETE FROM consent_events WHERE organization_id = ? AND identifier = ?").bind(ORG, identifier).run();
    const logs = captureConsole();
    expect((await publish({ type: "OPT_OUT", topic: "Q", identifier })).status).toBe(201);
    await vi.waitFor(async () => expect((await fedRows(ORG, identifier)).map((r) => [r.sequence, r.type])).toEqual([[1, "OPT_IN"], [2, "OPT_OUT"]]), {
      timeout: 15_000,
    });
    await vi.waitFor(async () => expect(await (await ledgerOf(ORG, identifier)).stub.pendingCount()).toBe(0), FED);
    expect(logs.lines()).toEqual([expect.stringContaining("the feed lost events this ledger had fed")]);
  });
});
