import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bytesToHex } from "@noble/hashes/utils.js";
import { app } from "../../src/index";
import { idempotencyRecordFor } from "../../src/storage/idempotency/address";
import { CLAIM_LEASE_MS, KEY_TTL_MS, type IdempotencyRecord } from "../../src/storage/idempotency/idempotency-record";
import { captureConsole } from "../helpers/console";
import { basic, call, list, uniqueEmail } from "../helpers/gateway";
import { wrapStubs } from "../helpers/stubs";

const PUBLISH = "/v1/consent/publish";
const DOUBLE_OPT_IN = "/v1/consent/double-opt-in";
const COPILOT = "/v2/api/report/user_copilot_analysis_consent_changed";

interface Options {
  key?: string;
  authorization?: string;
  /** Bindings replacing the real ones (wrapped real ones, to hold or fail a call). */
  bindings?: Partial<Env>;
}

/** A POST through the app (a body given as text is sent as it is), waiting for its background work. */
async function post(path: string, body: unknown, { key, authorization = basic("acme"), bindings = {} }: Options = {}) {
  const headers: Record<string, string> = { "Content-Type": "application/json", Authorization: authorization };
  if (key !== undefined) headers["Idempotency-Key"] = key;
  const ctx = createExecutionContext();
  const response = await app.request(path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }, { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** What a client sees of an answer. */
const answer = async (response: Response) => ({ status: response.status, contentType: response.headers.get("Content-Type"), body: await response.text() });

const total = async (identifier: string, authorization?: string) => (await (await list(identifier, "", authorization)).json<{ total: number }>()).total;

const newKey = () => crypto.randomUUID();
const optIn = (identifier: string) => ({ type: "OPT_IN", topic: "NEWSLETTER", identifier, source: "idempotency-test" });

/** The record of a key in org-acme, and the body digest it compares. */
const recordOf = (operation: string, key: string) => idempotencyRecordFor(env, "org-acme", operation, key);
const digestOf = async (text: string) => bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));

/** A latch: `entered` settles when a held call arrives, which then waits until `release()`. */
function latch() {
  const entered = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  return { entered: entered.promise, arrive: () => entered.resolve(), wait: gate.promise, release: () => gate.resolve() };
}

describe("Idempotency-Key", () => {
  it("a retry with the same key and body answers the first answer (status, body, content type) and records nothing new", async () => {
    const identifier = uniqueEmail("idem");
    const key = newKey();
    const first = await answer(await post(PUBLISH, optIn(identifier), { key }));
    expect(first).toMatchObject({ status: 201, contentType: "application/json" });
    const retry = await post(PUBLISH, optIn(identifier), { key });
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.headers.get("X-Request-Id")).toBeTruthy();
    expect(await answer(retry)).toEqual(first);
    expect(await total(identifier)).toBe(1);
    // Without the key, the same body is a new event.
    expect((await post(PUBLISH, optIn(identifier))).status).toBe(201);
    expect(await total(identifier)).toBe(2);
  });

  it("replays double opt-in's links and Copilot's empty answer", async () => {
    const identifier = uniqueEmail("idem-doi");
    const key = newKey();
    const body = { topic: "NEWSLETTER", identifier };
    const first = await answer(await post(DOUBLE_OPT_IN, body, { key }));
    expect(first.status).toBe(201);
    expect(await answer(await post(DOUBLE_OPT_IN, body, { key }))).toEqual(first);
    expect(await total(identifier)).toBe(1);

    const userId = crypto.randomUUID();
    const report = { consent_value: true, user_id: userId };
    const reported = await answer(await post(COPILOT, report, { key }));
    expect(reported).toEqual({ status: 200, contentType: "application/json", body: "{}" });
    expect(await answer(await post(COPILOT, report, { key }))).toEqual(reported);
    expect(await total(userId)).toBe(1);
  });

  it("the same key with another body is a 422 idempotency_key_reused, and records nothing", async () => {
    const identifier = uniqueEmail("idem-reuse");
    const key = newKey();
    expect((await post(PUBLISH, optIn(identifier), { key })).status).toBe(201);
    const reused = await post(PUBLISH, { ...optIn(identifier), type: "OPT_OUT" }, { key });
    expect(reused.status).toBe(422);
    expect(reused.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await reused.json()).toMatchObject({ type: "urn:consent-gateway:problem:idempotency_key_reused", title: "Idempotency key reused", status: 422 });
    // The digest is over the bytes: the same JSON spelt with other whitespace is another body.
    expect((await post(PUBLISH, JSON.stringify(optIn(identifier), null, 2), { key })).status).toBe(422);
    expect(await total(identifier)).toBe(1);
  });

  it("a retry while the first is in flight is a 409 idempotency_key_in_flight with Retry-After; then it answers the first answer", async () => {
    const identifier = uniqueEmail("idem-flight");
    const key = newKey();
    const held = latch();
    const ledgers = wrapStubs(env.IDENTIFIER_LEDGER, {
      append: async (ledger, ...args) => {
        held.arrive();
        await held.wait;
        return ledger.append(...args);
      },
    });
    const first = post(PUBLISH, optIn(identifier), { key, bindings: { IDENTIFIER_LEDGER: ledgers } });
    await held.entered;
    const retry = await post(PUBLISH, optIn(identifier), { key });
    expect(retry.status).toBe(409);
    expect(retry.headers.get("Retry-After")).toBe("1");
    expect(await retry.json()).toMatchObject({ type: "urn:consent-gateway:problem:idempotency_key_in_flight", status: 409 });
    expect(await total(identifier)).toBe(0);

    held.release();
    const answered = await answer(await first);
    expect(answered.status).toBe(201);
    expect(await answer(await post(PUBLISH, optIn(identifier), { key }))).toEqual(answered);
    expect(await total(identifier)).toBe(1);
  });

  it("20 concurrent publishes with one key and one body: one event; each answer is that event's 201 or a 409 in flight", async () => {
    const identifier = uniqueEmail("idem-burst");
    const key = newKey();
    const init = { method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("acme"), "Idempotency-Key": key }, body: JSON.stringify(optIn(identifier)) };
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(PUBLISH, init).then(answer)));

    const history = await (await list(identifier)).json<{ events: unknown[]; total: number }>();
    expect(history.total).toBe(1);
    const created = answers.filter((a) => a.status === 201);
    const waiting = answers.filter((a) => a.status === 409);
    expect(created.length + waiting.length).toBe(20);
    expect(created.length).toBeGreaterThanOrEqual(1);
    // Every 201 is byte for byte the one stored event.
    for (const a of created) expect(a).toEqual({ status: 201, contentType: "application/json", body: JSON.stringify(history.events[0]) });
    for (const a of waiting) expect(JSON.parse(a.body)).toMatchObject({ type: "urn:consent-gateway:problem:idempotency_key_in_flight" });
  });

  it("keys belong to an organization: the same key in two organizations records two events", async () => {
    const identifier = uniqueEmail("idem-orgs");
    const key = newKey();
    const acme = await post(PUBLISH, optIn(identifier), { key });
    const globex = await post(PUBLISH, optIn(identifier), { key, authorization: basic("globex") });
    expect([acme.status, globex.status]).toEqual([201, 201]);
    expect(await globex.json()).toMatchObject({ organization_id: "org-globex" });
    expect(await total(identifier)).toBe(1);
    expect(await total(identifier, basic("globex"))).toBe(1);
  });

  it("keys belong to an operation: one key on every operation records each, with no 422", async () => {
    const identifier = uniqueEmail("idem-ops");
    const key = newKey();
    expect((await post(PUBLISH, optIn(identifier), { key })).status).toBe(201);
    expect((await post(DOUBLE_OPT_IN, { topic: "OFFERS", identifier }, { key })).status).toBe(201);
    expect((await post(COPILOT, { consent_value: true, user_id: identifier }, { key })).status).toBe(200);
    expect(await total(identifier)).toBe(3);
  });

  it("a key lives 24 hours: its alarm deletes it, and a claim past 24 hours is new even before the alarm ran", async () => {
    const identifier = uniqueEmail("idem-expiry");
    const key = newKey();
    expect((await post(PUBLISH, optIn(identifier), { key })).status).toBe(201);
    const record = await recordOf("publishConsentEvent", key);
    const alarm = await runInDurableObject(record, (_: IdempotencyRecord, state) => state.storage.getAlarm());
    expect(alarm! - Date.now()).toBeGreaterThan(KEY_TTL_MS - 60_000);
    expect(alarm! - Date.now()).toBeLessThanOrEqual(KEY_TTL_MS);

    expect(await runDurableObjectAlarm(record)).toBe(true);
    // Forgotten: another body is no longer a reuse, and the same body records again.
    const again = await post(PUBLISH, { ...optIn(identifier), type: "OPT_OUT" }, { key });
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ type: "OPT_OUT" });
    expect(await total(identifier)).toBe(2);

    // The alarm is late: the entry is 24 hours old, so it no longer answers.
    await runInDurableObject(record, (_: IdempotencyRecord, state) => {
      const entry = state.storage.kv.get<{ createdAt: number }>("entry")!;
      state.storage.kv.put("entry", { ...entry, createdAt: entry.createdAt - KEY_TTL_MS });
    });
    expect((await post(PUBLISH, optIn(identifier), { key })).status).toBe(201);
    expect(await total(identifier)).toBe(3);
  });

  it("a claim whose request died lapses after its lease, and the next retry runs", async () => {
    const identifier = uniqueEmail("idem-lease");
    const key = newKey();
    const text = JSON.stringify(optIn(identifier));
    const record = await recordOf("publishConsentEvent", key);
    // A request that claimed the key, then vanished without answering.
    expect(await record.claim(await digestOf(text))).toMatchObject({ state: "new" });
    expect((await post(PUBLISH, text, { key })).status).toBe(409);

    await runInDurableObject(record, (_: IdempotencyRecord, state) => {
      const entry = state.storage.kv.get<{ claimedAt: number }>("entry")!;
      state.storage.kv.put("entry", { ...entry, claimedAt: entry.claimedAt - CLAIM_LEASE_MS });
    });
    const taken = await answer(await post(PUBLISH, text, { key }));
    expect(taken.status).toBe(201);
    expect(await answer(await post(PUBLISH, text, { key }))).toEqual(taken);
    expect(await total(identifier)).toBe(1);
  });

  it("a 5xx does not pin its failure: the key is released and a retry runs (recording twice when the 500 came after the commit)", async () => {
    const identifier = uniqueEmail("idem-500");
    const key = newKey();
    const logs = captureConsole();
    const failingAfterCommit = wrapStubs(env.IDENTIFIER_LEDGER, {
      append: async (ledger, ...args) => {
        await ledger.append(...args);
        throw Object.assign(new Error("Network connection lost."), { retryable: true });
      },
    });
    const failed = await post(PUBLISH, optIn(identifier), { key, bindings: { IDENTIFIER_LEDGER: failingAfterCommit } });
    expect(failed.status).toBe(500);
    expect(logs.lines().map((line) => JSON.parse(line).message)).toEqual(["unhandled error"]);

    const retry = await post(PUBLISH, optIn(identifier), { key });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await total(identifier)).toBe(2);
  });

  it("a refusal is not kept either: after a 400, the corrected body runs under the same key", async () => {
    const identifier = uniqueEmail("idem-400");
    const key = newKey();
    expect((await post(PUBLISH, { ...optIn(identifier), type: "MAYBE" }, { key })).status).toBe(400);
    expect((await post(PUBLISH, optIn(identifier), { key })).status).toBe(201);
    expect(await total(identifier)).toBe(1);
  });

  it("keeps the answer when the record cannot be updated, and logs it", async () => {
    const identifier = uniqueEmail("idem-complete");
    const logs = captureConsole();
    const records = wrapStubs(env.IDEMPOTENCY_RECORD, {
      complete: async () => {
        throw new Error("the record is unreachable (injected fault)");
      },
    });
    const response = await post(PUBLISH, optIn(identifier), { key: newKey(), bindings: { IDEMPOTENCY_RECORD: records } });
    expect(response.status).toBe(201);
    expect(logs.lines().map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: "warn", message: "idempotency record not updated", operation: "publishConsentEvent" }),
    ]);
  });

  it("an RFC 8941 string names the same key as its content", async () => {
    const identifier = uniqueEmail("idem-sf");
    const first = await answer(await post(PUBLISH, optIn(identifier), { key: '"a \\"quoted\\" key"' }));
    expect(first.status).toBe(201);
    expect(await answer(await post(PUBLISH, optIn(identifier), { key: 'a "quoted" key' }))).toEqual(first);
    expect(await total(identifier)).toBe(1);
  });

  it.each([
    ["empty", "", "too_small"],
    ["an empty RFC 8941 string", '""', "too_small"],
    ["longer than 255 characters", "k".repeat(256), "too_big"],
    ["with a control character", "key\u0001", "control_character"],
  ])("refuses a key that is %s with a 400 naming the header, recording nothing", async (_, key, code) => {
    const identifier = uniqueEmail("idem-bad");
    const response = await post(PUBLISH, optIn(identifier), { key });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: "urn:consent-gateway:problem:validation",
      errors: [{ location: "header", path: "Idempotency-Key", code, message: expect.any(String) }],
    });
    expect(await total(identifier)).toBe(0);
  });

  it("accepts a key of exactly 255 characters", async () => {
    expect((await post(PUBLISH, optIn(uniqueEmail("idem-255")), { key: "k".repeat(255) })).status).toBe(201);
  });

  it("answers the Copilot endpoint's refusals in its own format", async () => {
    const userId = crypto.randomUUID();
    const key = newKey();
    expect((await post(COPILOT, { consent_value: true, user_id: userId }, { key })).status).toBe(200);
    const reused = await post(COPILOT, { consent_value: false, user_id: userId }, { key });
    expect(reused.status).toBe(422);
    expect(await reused.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: expect.stringContaining("another request body") });

    const invalid = await post(COPILOT, { consent_value: false, user_id: userId }, { key: "" });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: "1 validation error: [ must not be empty --> Idempotency-Key ]" });

    const held = latch();
    const ledgers = wrapStubs(env.IDENTIFIER_LEDGER, {
      append: async (ledger, ...args) => {
        held.arrive();
        await held.wait;
        return ledger.append(...args);
      },
    });
    const other = newKey();
    const first = post(COPILOT, { consent_value: false, user_id: userId }, { key: other, bindings: { IDENTIFIER_LEDGER: ledgers } });
    await held.entered;
    const waiting = await post(COPILOT, { consent_value: false, user_id: userId }, { key: other });
    expect(waiting.status).toBe(409);
    expect(waiting.headers.get("Retry-After")).toBe("1");
    expect(await waiting.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: expect.stringContaining("still being processed") });
    held.release();
    expect((await first).status).toBe(200);
    expect(await total(userId)).toBe(2);
  });
});
