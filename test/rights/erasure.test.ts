import { createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject, createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { consumeFeedBatch } from "../../src/storage/feed/consumer";
import type { FeedEntry } from "../../src/storage/event-record";
import type { IdentifierLedger } from "../../src/storage/ledger/identifier-ledger";
import { idempotencyRecordFor } from "../../src/storage/idempotency/address";
import { createWebhook } from "../../src/webhooks/service";
import type { WebhookMessage } from "../../src/storage/webhooks/messages";
import { basic, call, hs256, list, postJson, publish } from "../helpers/gateway";
import { callWith } from "../helpers/limits";
import { capturingQueue, fedRows, ledgerOf } from "../helpers/ledger";

const FED = { timeout: 10_000 };
const DPO = basic("acme-dpo");

const erase = (identifier: string, body: unknown = { reason: "GDPR Art. 17 request, ticket 4711" }, authorization = DPO) =>
  call(`/v1/consent/${encodeURIComponent(identifier)}`, { method: "DELETE", headers: { "Content-Type": "application/json", Authorization: authorization }, body: JSON.stringify(body) });

const read = async (path: string, authorization = basic("acme")) => (await call(path, { headers: { Authorization: authorization } })).json<any>();

/** Every row of every table and every key-value entry of a ledger, as text. */
const ledgerDump = (stub: DurableObjectStub<IdentifierLedger>) =>
  runInDurableObject(stub, (_: IdentifierLedger, state) => {
    const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'").toArray();
    const rows = tables.map(({ name }) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray());
    return JSON.stringify({ tables: tables.map((t) => t.name), rows, kv: [...state.storage.kv.list()] });
  });

/** Every row of every table of D1, as text. */
async function d1Dump() {
  const { results: tables } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%' AND name != 'd1_migrations'").all<{ name: string }>();
  const rows = await Promise.all(tables.map(({ name }) => env.DB.prepare(`SELECT * FROM "${name}"`).all()));
  return JSON.stringify(rows.map((r) => r.results));
}

/** A person with a history in every store: two topics, a double opt-in request, meta, a source and an IP, fed into D1. */
async function personWithHistory() {
  const token = crypto.randomUUID();
  const identifier = `Erase-Me-${token}@Example.com`;
  const personal = { identifier, lower: identifier.toLowerCase(), meta: `meta-${token}`, source: `source-${token}`, ip: `198.51.100.${Math.floor(Math.random() * 200) + 1}` };
  const headers = { "Content-Type": "application/json", Authorization: basic("acme"), "CF-Connecting-IP": personal.ip };
  const topic = `ERASE-${token}`;
  for (const body of [
    { type: "OPT_IN", topic, identifier, source: personal.source, meta: { note: personal.meta } },
    { type: "OPT_OUT", topic: `${topic}-2`, identifier, source: personal.source },
  ]) {
    expect((await call("/v1/consent/publish", { method: "POST", headers, body: JSON.stringify(body) })).status).toBe(201);
  }
  expect((await call("/v1/consent/double-opt-in", { method: "POST", headers, body: JSON.stringify({ topic, identifier, source: personal.source }) })).status).toBe(201);
  const normalized = identifier.toLowerCase();
  await vi.waitFor(async () => expect(await fedRows("org-acme", normalized)).toHaveLength(3), FED);
  return { identifier, topic, personal, normalized };
}

describe("DELETE /v1/consent/{identifier} (eraseConsentHistory)", { timeout: 30_000 }, () => {
  it("needs the consent:erase scope, which a credential without scopes does not have", async () => {
    const { identifier } = await personWithHistory();
    for (const who of [basic("acme"), basic("acme-writer"), basic("acme-reader")]) {
      const refused = await erase(identifier, undefined, who);
      expect(refused.status).toBe(403);
      expect((await refused.json<any>()).detail).toContain("consent:erase");
    }
    expect((await list(identifier).then((r) => r.json<any>())).total).toBe(3);
  });

  it("refuses a body without a reason, or with other fields, and erases nothing", async () => {
    const { identifier } = await personWithHistory();
    for (const body of [{}, { reason: "" }, { reason: "x", identifier }, { reason: 7 }]) expect((await erase(identifier, body)).status).toBe(400);
    expect((await list(identifier).then((r) => r.json<any>())).total).toBe(3);
  });

  it("keeps a stub and leaves no personal field in any row of the ledger or of D1", async () => {
    const { identifier, topic, personal, normalized } = await personWithHistory();
    const { stub } = ledgerOf("org-acme", identifier);
    const before = await ledgerDump(stub);
    // Stored as normalised (lower case); the spelling sent is looked for afterwards too.
    const stored = before + (await d1Dump());
    for (const [name, value] of Object.entries(personal)) if (name !== "identifier") expect(stored.includes(value), name).toBe(true);

    const response = await erase(identifier);
    expect(response.status).toBe(200);
    const erasure = await response.json<any>();
    expect(erasure).toMatchObject({ erased_by: "acme-dpo", reason: "GDPR Art. 17 request, ticket 4711" });
    expect(Date.parse(erasure.erased_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(erasure.stub.identifier_hash).toBe(ledgerOf("org-acme", identifier).key.identifierHash);
    expect(erasure.stub.events.map((e: any) => [e.seq, e.type, e.topic])).toEqual([
      [1, "OPT_IN", topic],
      [2, "OPT_OUT", `${topic}-2`],
      [3, "DOUBLE_OPT_IN_REQUESTED", topic],
    ]);
    expect(erasure.stub.events.every((e: any) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);

    const after = (await ledgerDump(stub)) + (await d1Dump());
    for (const [name, value] of Object.entries(personal)) expect(after.includes(value), name).toBe(false);
    // The stub's chain still verifies from what is kept (the links and the commitments, no value).
    const kept = await runInDurableObject(stub, (_: IdentifierLedger, state) => state.storage.sql.exec("SELECT hash, prev_hash, commitments FROM erased_events ORDER BY sequence").toArray());
    expect(kept.map((row) => row.hash)).toEqual(erasure.stub.events.map((e: any) => e.hash));
    expect(kept[1]!.prev_hash).toBe(kept[0]!.hash);
    expect(JSON.parse(kept[0]!.commitments as string)).toHaveProperty("meta");

    expect(await list(identifier).then((r) => r.json<any>())).toMatchObject({ events: [], total: 0 });
    expect(await read(`/v1/consent/${encodeURIComponent(identifier)}/state`)).toEqual({ identifier: normalized, at: expect.any(String), topics: [], erased: true, erased_at: erasure.erased_at });
    expect(await read(`/v1/consent?topic=${topic}&status=pending`)).toMatchObject({ identifiers: [] });
    expect(await read(`/v1/consent?topic=${topic}-2&status=withdrawn`)).toMatchObject({ identifiers: [] });
    const feed = await read(`/v1/events?topic=${topic}`);
    expect(feed.events).toEqual([]);
  });

  it("is idempotent: erasing again answers the same erasure", async () => {
    const { identifier } = await personWithHistory();
    const first = await (await erase(identifier)).json<any>();
    const again = await erase(identifier, { reason: "asked twice" });
    expect(again.status).toBe(200);
    expect(await again.json<any>()).toEqual(first);
  });

  it("erases a person never seen: an empty stub, and the state says erased", async () => {
    const identifier = `never-${crypto.randomUUID()}@example.com`;
    const erasure = await (await erase(identifier)).json<any>();
    expect(erasure.stub.events).toEqual([]);
    expect(await read(`/v1/consent/${identifier}/state`)).toMatchObject({ topics: [], erased: true });
  });

  it("starts a new chain at seq 1 after it, marked follows_erasure, which reaches D1 and verifies", async () => {
    const { identifier, topic, normalized } = await personWithHistory();
    await erase(identifier);
    const recorded = await (await publish({ type: "OPT_IN", topic, identifier })).json<any>();
    expect(recorded).toMatchObject({ seq: 1, prev_hash: null, proof: { follows_erasure: true } });
    const second = await (await publish({ type: "OPT_OUT", topic, identifier })).json<any>();
    expect(second.seq).toBe(2);
    expect(second.proof.follows_erasure).toBeUndefined();
    await vi.waitFor(async () => expect((await fedRows("org-acme", normalized)).map((r) => r.type)).toEqual(["OPT_IN", "OPT_OUT"]), FED);
    expect(await read(`/v1/consent/${encodeURIComponent(identifier)}/verify`)).toMatchObject({ intact: true, length: 2 });
    expect((await read(`/v1/consent/${encodeURIComponent(identifier)}/state?topic=${topic}`)).topics[0].status).toBe("withdrawn");
    // Erasing again erases the new chain: a second generation in the stub.
    const next = await (await erase(identifier)).json<any>();
    expect(next.stub.events.map((e: any) => e.seq)).toEqual([1, 2]);
    expect(await fedRows("org-acme", normalized)).toEqual([]);
  });

  it("drops a queued event of the erased generation that reaches the feed afterwards", async () => {
    const { identifier, normalized } = await personWithHistory();
    const { key, stub } = ledgerOf("org-acme", identifier);
    const late = await runInDurableObject(stub, (_: IdentifierLedger, state) =>
      state.storage.sql.exec("SELECT sequence, type, topic, source, meta, created_at AS createdAt, occurred_at AS occurredAt, hash, prev_hash AS prevHash, commitments, proof FROM events WHERE sequence = 1").one(),
    );
    await erase(identifier);
    const entry = { ...late, organizationId: key.organizationId, identifier: normalized, identifierHash: key.identifierHash, ledger: stub.id.toString(), generation: 1 } as unknown as FeedEntry;
    const batch = createMessageBatch("consent-feed", [{ id: "late", timestamp: new Date(), attempts: 1, body: entry }]);
    const ctx = createExecutionContext();
    await consumeFeedBatch(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["late"]);
    expect(await fedRows("org-acme", normalized)).toEqual([]);
    // And an event of the next generation waits until the erasure has landed in D1.
    expect(await d1Dump()).not.toContain(normalized);
  });

  it("finishes D1's part by the alarm when D1 did not take it", async () => {
    const { identifier, normalized } = await personWithHistory();
    const { stub } = ledgerOf("org-acme", identifier);
    await erase(identifier);
    // As if D1 had refused: the rows are back and the ledger still owes the feed its erasure.
    await env.DB.prepare("DELETE FROM consent_erasures WHERE identifier_hash = ?").bind(ledgerOf("org-acme", identifier).key.identifierHash).run();
    await env.DB.prepare("INSERT INTO consent_topics (organization_id, topic, identifier, decision_seq, decision_type, decision_at) VALUES ('org-acme', 'T', ?, 1, 'OPT_IN', '2026-01-01T00:00:00.000Z')").bind(normalized).run();
    await runInDurableObject(stub, (_: IdentifierLedger, state) => {
      const [erasure] = state.storage.kv.get<any[]>("erasures")!;
      state.storage.kv.put("feed_erasure", { organizationId: "org-acme", identifierHash: ledgerOf("org-acme", identifier).key.identifierHash, identifiers: [normalized], generation: erasure.generation, erasedAt: erasure.erasedAt });
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await d1Dump()).not.toContain(normalized);
    expect(await runInDurableObject(stub, (_: IdentifierLedger, state) => state.storage.kv.get("feed_erasure"))).toBeUndefined();
  });

  it("never touches another organization's history of the same identifier", async () => {
    const { identifier } = await personWithHistory();
    expect((await publish({ type: "OPT_IN", topic: "T", identifier }, basic("globex"))).status).toBe(201);
    expect((await erase(identifier, undefined, basic("globex-dpo"))).status).toBe(200);
    expect((await list(identifier).then((r) => r.json<any>())).total).toBe(3);
    expect((await list(identifier, "", basic("globex")).then((r) => r.json<any>())).total).toBe(0);
  });

  it("makes the idempotency records of the person's requests forget their answers: a retry is told so and records nothing", async () => {
    const identifier = `retried-${crypto.randomUUID()}@example.com`;
    const key = crypto.randomUUID();
    const send = () =>
      call("/v1/consent/publish", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: basic("acme"), "Idempotency-Key": key },
        body: JSON.stringify({ type: "OPT_IN", topic: "T", identifier, meta: { note: "kept-for-retries" } }),
      });
    expect((await send()).status).toBe(201);
    const record = await idempotencyRecordFor(env, "org-acme", "publishConsentEvent", key);
    const kept = () => runInDurableObject(record, (_, state) => JSON.stringify([...state.storage.kv.list()]));
    expect(await kept()).toContain(identifier);

    expect((await erase(identifier)).status).toBe(200);
    expect(await kept()).not.toContain(identifier);
    expect(await kept()).not.toContain("kept-for-retries");
    const retry = await send();
    expect(retry.status).toBe(410);
    expect(await retry.json<any>()).toMatchObject({ type: "urn:consent-gateway:problem:idempotency_key_erased" });
    expect((await list(identifier).then((r) => r.json<any>())).total).toBe(0);
  });

  it("keeps only a keyed hash of an imported event's id, which still knows the event when it is imported again", async () => {
    const identifier = `imported-${crypto.randomUUID()}@example.com`;
    const line = JSON.stringify({ event_id: `crm-${identifier}`, type: "OPT_IN", topic: "T", identifier, occurred_at: "2025-06-01T10:00:00Z" });
    const importIt = () => call("/v1/consent/import", { method: "POST", headers: { "Content-Type": "application/x-ndjson", Authorization: basic("acme") }, body: line });
    expect((await (await importIt()).json<any>()).stored).toBe(1);
    expect((await erase(identifier)).status).toBe(200);
    expect(await ledgerDump(ledgerOf("org-acme", identifier).stub)).not.toContain(identifier);
    expect(await (await importIt()).json<any>()).toMatchObject({ stored: 0, duplicates: 1 });
    expect((await list(identifier).then((r) => r.json<any>())).total).toBe(0);
  });

  it("leaves the links mailed before it dead, even once the person has a new history", async () => {
    const identifier = `linked-${crypto.randomUUID()}@example.com`;
    const links = await (await postJson("/v1/consent/double-opt-in", { topic: "T", identifier })).json<any>();
    expect((await call(new URL(links.preferences_url).pathname)).status).toBe(200);
    await erase(identifier);
    // The same person asks again: seq 1 of a new chain is a request on the same topic, as the old link's was.
    const fresh = await (await postJson("/v1/consent/double-opt-in", { topic: "T", identifier })).json<any>();
    expect(fresh.event.seq).toBe(1);
    for (const url of [links.opt_in_url, links.opt_out_url, links.preferences_url]) {
      expect((await call(new URL(url).pathname)).status, url).toBe(400);
    }
    const confirm = await call(new URL(links.opt_in_url).pathname, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "" });
    expect(confirm.status).toBe(400);
    expect((await list(identifier).then((r) => r.json<any>())).total).toBe(1);
    // The new links reach the new history.
    expect((await call(new URL(fresh.opt_in_url).pathname)).status).toBe(200);
    expect((await call(new URL(fresh.preferences_url).pathname)).status).toBe(200);
    const created = await (await call(`/v1/consent/${identifier}/preferences-link`, { method: "POST", headers: { Authorization: basic("acme") } })).json<any>();
    expect((await call(new URL(created.preferences_url).pathname)).status).toBe(200);
  });

  it("tells the organization's webhook endpoints, so the systems behind the gateway erase too", async () => {
    const organizationId = `org-erase-${crypto.randomUUID()}`;
    const principal = { organizationId, scopes: new Set(["webhooks:manage"] as const), subject: "test", scheme: "basic" as const };
    const token = await hs256({ organization_id: organizationId, sub: "dpo", scope: "consent:write consent:erase" });
    const identifier = `Told-${crypto.randomUUID()}@Example.com`;
    expect((await publish({ type: "OPT_IN", topic: "T", identifier }, token)).status).toBe(201);
    // The endpoint comes once the event is in the feed: only the erasure is for it.
    await vi.waitFor(async () => expect(await fedRows(organizationId, identifier.toLowerCase())).toHaveLength(1), FED);
    const endpoint = await createWebhook(env, principal, { url: "https://crm.example.com/hooks" });
    const { sent, binding } = capturingQueue<WebhookMessage>();
    const response = await callWith({ WEBHOOK_QUEUE: binding }, `/v1/consent/${encodeURIComponent(identifier)}`, {
      method: "DELETE",
      headers: { "Content-Type": "application/json", Authorization: token },
      body: JSON.stringify({ reason: "GDPR Art. 17 request" }),
    });
    expect(response.status).toBe(200);
    const { erased_at } = await response.json<any>();
    expect(sent).toEqual([expect.objectContaining({ type: "consent.erased", organizationId, endpointId: endpoint.id, identifier: identifier.toLowerCase(), erasedAt: erased_at })]);
  });
});
