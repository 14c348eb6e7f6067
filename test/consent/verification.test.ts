import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { IdentifierLedger } from "../../src/storage/ledger/identifier-ledger";
import { call, basic, publish, uniqueEmail } from "../helpers/gateway";
import { fedRows, ledgerOf } from "../helpers/ledger";

const ORG = "org-acme";

const verify = async (identifier: string, authorization = basic("acme")) => {
  const response = await call(`/v1/consent/${encodeURIComponent(identifier)}/verify`, { headers: { Authorization: authorization } });
  expect(response.status).toBe(200);
  return response.json<any>();
};

/** A history of three events, fed to D1. */
async function fedHistory() {
  const identifier = uniqueEmail("chain");
  for (const [type, meta] of [["OPT_IN", { n: 1 }], ["OPT_OUT", { n: 2 }], ["OPT_IN", { n: 3 }]] as const) {
    expect((await publish({ type, topic: "NEWS", identifier, source: "form", meta })).status).toBe(201);
  }
  await vi.waitFor(async () => expect(await fedRows(ORG, identifier)).toHaveLength(3), { timeout: 10_000 });
  return identifier;
}

const inLedger = async (identifier: string, sql: string, ...bindings: (string | number)[]) => {
  const { stub } = ledgerOf(ORG, identifier);
  await runInDurableObject(stub, (_: IdentifierLedger, state) => {
    state.storage.sql.exec(sql, ...bindings);
  });
};
const inD1 = (identifier: string, sql: string, ...bindings: (string | number)[]) =>
  env.DB.prepare(sql.replace("WHERE", "WHERE organization_id = ? AND identifier = ? AND")).bind(ORG, identifier, ...bindings).run();

describe("GET /v1/consent/{identifier}/verify", () => {
  it("an intact history: its length and head, the chain linked event to event", async () => {
    const identifier = await fedHistory();
    const events = (await (await call(`/v1/consent/${identifier}`, { headers: { Authorization: basic("acme") } })).json<any>()).events;
    expect(events.map((e: any) => e.seq)).toEqual([3, 2, 1]);
    expect(events[0].prev_hash).toBe(events[1].hash);
    expect(events[1].prev_hash).toBe(events[2].hash);
    expect(events[2].prev_hash).toBeNull();
    expect(await verify(identifier)).toEqual({ intact: true, length: 3, head: events[0].hash });
  });

  it("an identifier never seen: intact, empty, and nothing written", async () => {
    const identifier = uniqueEmail("unseen");
    expect(await verify(identifier)).toEqual({ intact: true, length: 0 });
    const { stub } = ledgerOf(ORG, identifier);
    expect(await runInDurableObject(stub, (_: IdentifierLedger, state) => [...state.storage.kv.list()].length)).toBe(0);
  });

  it.each([
    ["a changed type", "UPDATE events SET type = 'OPT_IN' WHERE sequence = 2", 2],
    ["a changed meta", `UPDATE events SET meta = '{"n":20}' WHERE sequence = 2`, 2],
    ["a changed source", "UPDATE events SET source = 'forged' WHERE sequence = 3", 3],
    ["a changed time", "UPDATE events SET created_at = '2020-01-01T00:00:00.000Z' WHERE sequence = 1", 1],
    ["a deleted row", "DELETE FROM events WHERE sequence = 2", 2],
  ])("finds %s in the ledger at the right seq", async (_, sql, seq) => {
    const identifier = await fedHistory();
    await inLedger(identifier, sql);
    expect(await verify(identifier)).toMatchObject({ intact: false, first_broken_seq: seq, store: "ledger" });
  });

  it("finds two swapped rows in the ledger at the first of them", async () => {
    const identifier = await fedHistory();
    await inLedger(identifier, "UPDATE events SET sequence = -sequence WHERE sequence IN (2, 3)");
    await inLedger(identifier, "UPDATE events SET sequence = CASE sequence WHEN -2 THEN 3 ELSE 2 END WHERE sequence < 0");
    expect(await verify(identifier)).toMatchObject({ intact: false, first_broken_seq: 2, store: "ledger" });
  });

  it.each([
    ["a changed type", "UPDATE consent_events SET type = 'OPT_IN' WHERE sequence = 2", 2],
    ["a changed meta", `UPDATE consent_events SET meta = '{"n":30}' WHERE sequence = 3`, 3],
    ["a changed topic", "UPDATE consent_events SET topic = 'OTHER' WHERE sequence = 1", 1],
    ["a deleted row", "DELETE FROM consent_events WHERE sequence = 2", 2],
    ["swapped rows", "UPDATE consent_events SET sequence = CASE sequence WHEN 2 THEN 3 ELSE 2 END WHERE sequence IN (2, 3)", 2],
  ])("finds %s in the feed's copy at the right seq", async (_, sql, seq) => {
    const identifier = await fedHistory();
    if (sql.includes("CASE")) {
      // Through a free sequence, so the unique key never sees two rows with one number.
      await inD1(identifier, "UPDATE consent_events SET sequence = -sequence WHERE sequence IN (2, 3)");
      await inD1(identifier, "UPDATE consent_events SET sequence = CASE sequence WHEN -2 THEN 3 ELSE 2 END WHERE sequence < 0");
    } else {
      await inD1(identifier, sql);
    }
    expect(await verify(identifier)).toMatchObject({ intact: false, first_broken_seq: seq, store: "d1" });
  });

  it("a feed that merely lags is not broken", async () => {
    const identifier = await fedHistory();
    await inD1(identifier, "DELETE FROM consent_events WHERE sequence = 3");
    expect(await verify(identifier)).toMatchObject({ intact: true, length: 3 });
  });

  it("is the caller's organization's: another organization's identifier of the same spelling is its own history", async () => {
    const identifier = await fedHistory();
    expect(await verify(identifier, basic("globex"))).toEqual({ intact: true, length: 0 });
  });
});
