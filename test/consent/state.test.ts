import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { IdentifierLedger } from "../../src/storage/ledger/identifier-ledger";
import { basic, call, postJson, publish, uniqueEmail } from "../helpers/gateway";
import { ledgerOf } from "../helpers/ledger";

const DAY = 24 * 60 * 60 * 1000;

async function state(identifier: string, query = "", authorization = basic("acme")) {
  const response = await call(`/v1/consent/${encodeURIComponent(identifier)}/state${query}`, { headers: { Authorization: authorization } });
  expect(response.status).toBe(200);
  return response.json<any>();
}
const at = (instant: number) => `at=${encodeURIComponent(new Date(instant).toISOString())}`;

/** Publishes and answers the stored event, a few milliseconds after the previous one (so instants between events exist). */
async function record(body: object, authorization?: string) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  const response = await publish(body, authorization);
  expect(response.status).toBe(201);
  return response.json<any>();
}

describe("GET /v1/consent/{identifier}/state", () => {
  it("answers, at every boundary of the history, what the latest event up to that instant decided", async () => {
    const identifier = uniqueEmail("state");
    const granted = await record({ type: "OPT_IN", topic: "NEWS", identifier });
    const withdrawn = await record({ type: "OPT_OUT", topic: "NEWS", identifier });
    const renewed = await record({ type: "OPT_IN", topic: "NEWS", identifier });
    const [t1, t2, t3] = [granted, withdrawn, renewed].map((e) => Date.parse(e.created_at));
    const topic = async (instant: number) => (await state(identifier, `?topic=NEWS&${at(instant)}`)).topics;
    const by = (e: any) => ({ since: e.created_at, decided_by: { seq: e.seq, type: e.type, hash: e.hash } });

    expect(await topic(t1! - 1)).toEqual([{ topic: "NEWS", status: "none" }]);
    expect(await topic(t1!)).toEqual([{ topic: "NEWS", status: "granted", ...by(granted) }]);
    expect(await topic(t2! - 1)).toEqual([{ topic: "NEWS", status: "granted", ...by(granted) }]);
    expect(await topic(t2!)).toEqual([{ topic: "NEWS", status: "withdrawn", ...by(withdrawn) }]);
    expect(await topic(t3!)).toEqual([{ topic: "NEWS", status: "granted", ...by(renewed) }]);
    expect(await topic(t3! + 365 * DAY)).toEqual([{ topic: "NEWS", status: "granted", ...by(renewed) }]);
    // Without `at`: now; without `topic`: every topic the history has up to then.
    const now = await state(identifier);
    expect(now).toMatchObject({ identifier, topics: [{ topic: "NEWS", status: "granted", ...by(renewed) }] });
    expect(Date.parse(now.at)).toBeGreaterThanOrEqual(t3!);
    expect((await state(identifier, `?${at(t1! - 1)}`)).topics).toEqual([]);
  });

  it("a grant outlives its topic's lifespan by not a millisecond: granted at lifespan × 24 h, expired after", async () => {
    const identifier = uniqueEmail("lifespan");
    const grant = await record({ type: "OPT_IN", topic: "LIMITED", identifier });
    const t = Date.parse(grant.created_at);
    expect((await state(identifier, `?topic=LIMITED&${at(t + 30 * DAY)}`)).topics[0].status).toBe("granted");
    expect((await state(identifier, `?topic=LIMITED&${at(t + 30 * DAY + 1)}`)).topics[0]).toMatchObject({ status: "expired", decided_by: { seq: 1 } });
    // A renewed grant starts its lifespan again.
    const renewed = await record({ type: "OPT_IN", topic: "LIMITED", identifier });
    expect((await state(identifier, `?topic=LIMITED&${at(Date.parse(renewed.created_at) + 30 * DAY)}`)).topics[0]).toMatchObject({ status: "granted", decided_by: { seq: 2 } });
  });

  it("a double opt-in request alone is pending; it takes nothing from a grant before it", async () => {
    const identifier = uniqueEmail("pending");
    const requested = await postJson("/v1/consent/double-opt-in", { topic: "NEWS", identifier });
    expect(requested.status).toBe(201);
    expect((await state(identifier, "?topic=NEWS")).topics[0]).toMatchObject({ status: "pending", decided_by: { seq: 1, type: "DOUBLE_OPT_IN_REQUESTED" } });
    await record({ type: "OPT_IN", topic: "NEWS", identifier });
    expect((await postJson("/v1/consent/double-opt-in", { topic: "NEWS", identifier })).status).toBe(201);
    expect((await state(identifier, "?topic=NEWS")).topics[0]).toMatchObject({ status: "granted", decided_by: { seq: 2, type: "OPT_IN" } });
    // After an opt-out, a new request is pending again.
    await record({ type: "OPT_OUT", topic: "NEWS", identifier });
    expect((await postJson("/v1/consent/double-opt-in", { topic: "NEWS", identifier })).status).toBe(201);
    expect((await state(identifier, "?topic=NEWS")).topics[0]).toMatchObject({ status: "pending", decided_by: { seq: 5 } });
  });

  it("reports a grant given under another notice version than the topic's current one", async () => {
    const identifier = uniqueEmail("notice");
    await record({ type: "OPT_IN", topic: "NOTICED", identifier, meta: { notice_version: "v1" } });
    expect((await state(identifier, "?topic=NOTICED")).topics[0]).toMatchObject({ status: "granted", notice_outdated: true });
    await record({ type: "OPT_IN", topic: "NOTICED", identifier, meta: { notice_version: "v2" } });
    expect((await state(identifier, "?topic=NOTICED")).topics[0]).not.toHaveProperty("notice_outdated");
  });

  it("Copilot analysis is allowed by default, unless the organization requires consent; an event always decides", async () => {
    const user = crypto.randomUUID();
    expect((await state(user, "?topic=COPILOT_ANALYSIS")).topics).toEqual([{ topic: "COPILOT_ANALYSIS", status: "granted", decided_by: { rule: "default_allowed" } }]);
    expect((await state(user, "?topic=COPILOT_ANALYSIS", basic("globex"))).topics).toEqual([{ topic: "COPILOT_ANALYSIS", status: "none" }]);
    const refused = await call("/v2/api/report/user_copilot_analysis_consent_changed", {
      method: "POST",
      headers: { Authorization: basic("acme"), "Content-Type": "application/json" },
      body: JSON.stringify({ consent_value: false, user_id: user }),
    });
    expect(refused.status).toBe(200);
    expect((await state(user, "?topic=COPILOT_ANALYSIS")).topics[0]).toMatchObject({ status: "withdrawn", decided_by: { seq: 1, type: "OPT_OUT" } });
  });

  it("an identifier never seen answers none and writes nothing", async () => {
    const identifier = uniqueEmail("never");
    expect((await state(identifier, "?topic=NEWS")).topics).toEqual([{ topic: "NEWS", status: "none" }]);
    const { stub } = ledgerOf("org-acme", identifier);
    expect(await runInDurableObject(stub, (_: IdentifierLedger, s) => [...s.storage.kv.list()].length)).toBe(0);
  });

  it.each([["2026-01-01T00:00:00"], ["yesterday"], ["2026-13-01T00:00:00Z"], ["10000-01-01T00:00:00Z"]])("refuses at=%j with a 400", async (value) => {
    const response = await call(`/v1/consent/${uniqueEmail()}/state?at=${encodeURIComponent(value)}`, { headers: { Authorization: basic("acme") } });
    expect(response.status).toBe(400);
    expect((await response.json<any>()).errors[0]).toMatchObject({ location: "query", path: "at" });
  });
});
