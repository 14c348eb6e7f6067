import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { IdentifierLedger } from "../../src/storage/ledger/identifier-ledger";
import { basic, call, hs256, list } from "../helpers/gateway";
import { ledgerOf } from "../helpers/ledger";

const PATH = "/v2/api/collect";
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const SUPPORTED = "user_created, user_updated, preexisting_user_created, user_deleted";

const collect = (body: unknown, { authorization = basic("acme"), key }: { authorization?: string; key?: string } = {}) =>
  call(PATH, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(authorization === "" ? {} : { Authorization: authorization }),
      ...(key === undefined ? {} : { "Idempotency-Key": key }),
    },
    body: JSON.stringify(body),
  });

/** A Collect event carrying (or, with `consent` undefined, not carrying) analysis consent. */
const userEvent = (userId: string, consent: boolean | null | undefined, { type = "user_created", timestamp = Date.now() - MINUTE, eventId = crypto.randomUUID() } = {}) => ({
  type,
  event_id: eventId,
  timestamp,
  payload: { user_id: userId, email: "kept-nowhere@example.com", ...(consent === undefined ? {} : { copilot_analysis_consent: consent }) },
});

const history = async (userId: string, authorization?: string) => (await list(userId, "", authorization)).json<{ total: number; events: any[] }>();

async function expectValidationError(response: Response, message: string) {
  expect(response.status).toBe(400);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(await response.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: message });
}

const feedRows = async (userId: string) =>
  (await env.DB.prepare("SELECT sequence, type, occurred_at FROM consent_events WHERE organization_id = 'org-acme' AND identifier = ? ORDER BY sequence").bind(userId).all()).results;

const verify = async (userId: string) => (await call(`/v1/consent/${encodeURIComponent(userId)}/verify`, { headers: { Authorization: basic("acme") } })).json<any>();

describe("POST /v2/api/collect", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("records the consent a batch carries, in order, with each event's timestamp as occurred_at; an event without consent records nothing", async () => {
    const [jane, joe] = [crypto.randomUUID(), crypto.randomUUID()];
    const granted = Date.now() - 2 * DAY;
    const withdrawn = Date.now() - DAY;
    const response = await collect({
      events: [
        userEvent(jane, true, { timestamp: granted }),
        userEvent(joe, undefined, { type: "preexisting_user_created" }),
        userEvent(joe, null, { type: "user_updated" }),
        userEvent(jane, false, { type: "user_updated", timestamp: withdrawn }),
      ],
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});

    const { total, events } = await history(jane);
    expect(total).toBe(2);
    expect(events).toEqual([
      expect.objectContaining({ type: "OPT_OUT", topic: "COPILOT_ANALYSIS", source: "copilot", identifier: jane, organization_id: "org-acme", occurred_at: new Date(withdrawn).toISOString(), seq: 2 }),
      expect.objectContaining({ type: "OPT_IN", topic: "COPILOT_ANALYSIS", source: "copilot", identifier: jane, occurred_at: new Date(granted).toISOString(), seq: 1 }),
    ]);
    // The payload's other fields are not evidence of consent: nothing of them is kept.
    expect(events[0].meta).toBeUndefined();
    expect(events[0].proof).toMatchObject({ recorded_by: "acme", request_id: response.headers.get("X-Request-Id") });
    expect(Date.parse(events[0].created_at)).toBeGreaterThan(withdrawn);
    expect((await history(joe)).total).toBe(0);
  });

  it("keeps occurred_at in D1, answers it from the feed, and covers it by the chain", async () => {
    const userId = crypto.randomUUID();
    const timestamp = Date.now() - 3 * DAY;
    expect((await collect({ events: [userEvent(userId, true, { timestamp })] })).status).toBe(200);
    await vi.waitFor(async () => expect(await feedRows(userId)).toEqual([{ sequence: 1, type: "OPT_IN", occurred_at: new Date(timestamp).toISOString() }]), { timeout: 10_000 });

    const feed = await (await call("/v1/events?topic=COPILOT_ANALYSIS&limit=500", { headers: { Authorization: basic("acme") } })).json<any>();
    expect(feed.events.find((event: any) => event.identifier === userId)).toMatchObject({ occurred_at: new Date(timestamp).toISOString() });
    expect(await verify(userId)).toMatchObject({ intact: true, length: 1 });

    // occurred_at is in the link: changing it in either store breaks the chain there.
    await env.DB.prepare("UPDATE consent_events SET occurred_at = ? WHERE organization_id = 'org-acme' AND identifier = ?").bind(new Date(timestamp + 1).toISOString(), userId).run();
    expect(await verify(userId)).toMatchObject({ intact: false, first_broken_seq: 1, store: "d1" });
    await runInDurableObject(ledgerOf("org-acme", userId).stub, (_: IdentifierLedger, state) => {
      state.storage.sql.exec("UPDATE events SET occurred_at = ?", new Date(timestamp + 1).toISOString());
    });
    expect(await verify(userId)).toMatchObject({ intact: false, first_broken_seq: 1, store: "ledger" });
  });

  it("events from the consent endpoint and Collect share one history, and it verifies", async () => {
    const userId = crypto.randomUUID();
    const report = await call("/v2/api/report/user_copilot_analysis_consent_changed", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: basic("acme") },
      body: JSON.stringify({ consent_value: true, user_id: userId }),
    });
    expect(report.status).toBe(200);
    expect((await collect({ events: [userEvent(userId, false)] })).status).toBe(200);
    const { events } = await history(userId);
    expect(events.map((event) => [event.type, "occurred_at" in event])).toEqual([["OPT_OUT", true], ["OPT_IN", false]]);
    await vi.waitFor(async () => expect(await feedRows(userId)).toHaveLength(2), { timeout: 10_000 });
    expect(await verify(userId)).toMatchObject({ intact: true, length: 2 });
  });

  it("refuses a batch with one bad event as a whole: 400 naming its index, nothing recorded", async () => {
    const users = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const response = await collect({
      events: [userEvent(users[0]!, true), userEvent(users[1]!, false), { ...userEvent(users[2]!, true), type: "thing_created" }, userEvent(users[2]!, true)],
    });
    await expectValidationError(response, `1 validation error: [ must be one of ${SUPPORTED} (the events that carry consent, and user_deleted) --> events.2.type ]`);
    for (const user of users) expect((await history(user)).total).toBe(0);
  });

  it.each([
    [{}, "1 validation error: [ may not be null --> events ]"],
    [{ events: {} }, "1 validation error: [ must be a array --> events ]"],
    [{ events: [] }, "1 validation error: [ must be at least 1 --> events ]"],
    [{ events: [{ type: "custom_event", event_id: "e1", timestamp: Date.now(), payload: { name: "clicked" } }] }, `1 validation error: [ must be one of ${SUPPORTED} (the events that carry consent, and user_deleted) --> events.0.type ]`],
    [{ events: [{ type: "user_created", timestamp: Date.now(), payload: { user_id: "u1" } }] }, "1 validation error: [ may not be null --> events.0.event_id ]"],
    [{ events: [{ type: "user_created", event_id: "", timestamp: "now", payload: [] }] }, "3 validation errors: [ must not be empty --> events.0.event_id, must be a number --> events.0.timestamp, must be a object --> events.0.payload ]"],
    [{ events: [{ type: "user_updated", event_id: "e1", timestamp: Date.now(), payload: { copilot_analysis_consent: "yes" } }] }, "2 validation errors: [ may not be null --> events.0.payload.user_id, must be a boolean --> events.0.payload.copilot_analysis_consent ]"],
    [{ events: [{ type: "user_updated", event_id: "e1", timestamp: Date.now() + 0.5, payload: { user_id: "u1" } }] }, "1 validation error: [ must be whole epoch milliseconds --> events.0.timestamp ]"],
    [{ events: [{ type: "user_updated", event_id: "e\u0000", timestamp: Date.now(), payload: { user_id: "u1" } }] }, "1 validation error: [ must not contain control characters --> events.0.event_id ]"],
    // The payload is read by the event's type, so only once the event's own fields hold.
    [{ events: [{ type: "user_updated", event_id: "", timestamp: Date.now(), payload: { user_id: " " } }] }, "1 validation error: [ must not be empty --> events.0.event_id ]"],
    [{ events: [{ type: "user_updated", event_id: "e1", timestamp: Date.now(), payload: { user_id: " " } }] }, "1 validation error: [ must not be empty --> events.0.payload.user_id ]"],
  ])("answers %j with Copilot's validation error", async (body, message) => {
    await expectValidationError(await collect(body), message);
  });

  it(`takes at most 100 events a batch: 101 is a 400 and records nothing`, async () => {
    const userId = crypto.randomUUID();
    expect((await collect({ events: Array.from({ length: 100 }, () => userEvent(userId, undefined)) })).status).toBe(200);
    await expectValidationError(await collect({ events: Array.from({ length: 101 }, () => userEvent(userId, true)) }), "1 validation error: [ must be at most 100 --> events ]");
    expect((await history(userId)).total).toBe(0);
  });

  it("takes timestamps from 30 days ago up to 5 minutes ahead, both bounds included", async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now);
    const userId = crypto.randomUUID();
    const at = (timestamp: number) => collect({ events: [userEvent(userId, true, { timestamp })] });
    await expectValidationError(await at(now + 5 * MINUTE + 1), "1 validation error: [ must not be in the future (beyond 5 minutes of clock skew) --> events.0.timestamp ]");
    await expectValidationError(await at(now - 30 * DAY - 1), "1 validation error: [ must not be older than 30 days --> events.0.timestamp ]");
    expect((await history(userId)).total).toBe(0);
    expect((await at(now + 5 * MINUTE)).status).toBe(200);
    expect((await at(now - 30 * DAY)).status).toBe(200);
    expect((await history(userId)).events.map((event) => event.occurred_at)).toEqual([new Date(now - 30 * DAY).toISOString(), new Date(now + 5 * MINUTE).toISOString()]);
  });

  it("records a redelivered event_id once, however its delivery differs, and answers as the first time", async () => {
    const userId = crypto.randomUUID();
    const event = userEvent(userId, true);
    const first = await collect({ events: [event] });
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    const again = await collect({ events: [event, event] });
    expect([again.status, await again.text()]).toEqual([200, firstBody]);
    // The first delivery is the evidence: a changed copy of the event under its id records nothing.
    expect((await collect({ events: [{ ...event, type: "user_updated", payload: { user_id: userId, copilot_analysis_consent: false } }] })).status).toBe(200);
    expect((await history(userId)).events.map((e) => e.type)).toEqual(["OPT_IN"]);
    // A new event_id is a new event; another organization's ids are its own.
    expect((await collect({ events: [userEvent(userId, false)] })).status).toBe(200);
    expect((await history(userId)).total).toBe(2);
    expect((await collect({ events: [event] }, { authorization: basic("globex") })).status).toBe(200);
    expect((await history(userId, basic("globex"))).total).toBe(1);
  });

  it("records one event when 10 deliveries of its event_id arrive at once", async () => {
    const userId = crypto.randomUUID();
    const event = userEvent(userId, true);
    const responses = await Promise.all(Array.from({ length: 10 }, () => collect({ events: [event] })));
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect((await history(userId)).total).toBe(1);
    await vi.waitFor(async () => expect(await feedRows(userId)).toHaveLength(1), { timeout: 10_000 });
  });

  it("takes an Idempotency-Key: a retry is replayed", async () => {
    const userId = crypto.randomUUID();
    const body = { events: [userEvent(userId, true)] };
    const key = crypto.randomUUID();
    expect((await collect(body, { key })).status).toBe(200);
    const retry = await collect(body, { key });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    const reused = await collect({ events: [userEvent(userId, false)] }, { key });
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ reason: "COMMON.REQUEST_VALIDATION" });
    expect((await history(userId)).total).toBe(1);
  });

  it("accepts a Bearer JWT with consent:write", async () => {
    const userId = crypto.randomUUID();
    expect((await collect({ events: [userEvent(userId, true)] }, { authorization: await hs256({ organization_id: "org-acme", scope: "consent:write" }) })).status).toBe(200);
    expect((await history(userId)).total).toBe(1);
  });

  it.each([
    ["no credentials", "", 401, "Credentials are required."],
    ["a wrong secret", basic("acme", "nope"), 401, "The client id or secret is wrong."],
    ["a client without consent:write", basic("acme-reader"), 403, 'This operation needs the "consent:write" scope.'],
  ])("answers %s in Copilot's format, recording nothing", async (_, authorization, status, message) => {
    const userId = crypto.randomUUID();
    const response = await collect({ events: [userEvent(userId, true)] }, { authorization });
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ reason: "AUTH.UNAUTHORIZED", error_message: message });
    expect((await history(userId)).total).toBe(0);
  });

  it("answers a wrong method and a body that is not JSON in Copilot's format", async () => {
    const get = await call(PATH, { headers: { Authorization: basic("acme") } });
    expect(get.status).toBe(405);
    expect(get.headers.get("Allow")).toBe("POST");
    expect(await get.json()).toMatchObject({ reason: "COMMON.REQUEST_VALIDATION" });
    const text = await call(PATH, { method: "POST", headers: { "Content-Type": "text/plain", Authorization: basic("acme") }, body: "events" });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ reason: "COMMON.REQUEST_VALIDATION" });
  });

  describe("user_deleted", () => {
    it("erases the user's history as eraseConsentHistory does, and a redelivered batch records nothing of it again", { timeout: 30_000 }, async () => {
      const userId = crypto.randomUUID();
      const batch = { events: [userEvent(userId, true), { type: "user_deleted", event_id: crypto.randomUUID(), timestamp: Date.now() - 1000, payload: { user_id: userId } }] };
      expect((await collect(batch, { authorization: basic("acme-dpo") })).status).toBe(200);
      expect((await history(userId)).total).toBe(0);
      const state = await (await call(`/v1/consent/${userId}/state`, { headers: { Authorization: basic("acme") } })).json<any>();
      expect(state).toMatchObject({ erased: true, topics: [] });
      // The consent event is in the erased stub: delivered again, it is not recorded again.
      expect((await collect(batch, { authorization: basic("acme-dpo") })).status).toBe(200);
      expect((await history(userId)).total).toBe(0);
      await vi.waitFor(async () => expect(await feedRows(userId)).toEqual([]));
    });

    it("needs the consent:erase scope: without it the whole batch is refused in Copilot's format and nothing is recorded", async () => {
      const userId = crypto.randomUUID();
      const response = await collect({ events: [userEvent(userId, true), { type: "user_deleted", event_id: "d1", timestamp: Date.now() - 1000, payload: { user_id: userId } }] });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ reason: "AUTH.UNAUTHORIZED" });
      expect((await history(userId)).total).toBe(0);
    });
  });
});
