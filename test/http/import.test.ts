import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../src/index";
import { describe, expect, it, vi } from "vitest";
import { captureConsole } from "../helpers/console";
import { basic, call, list, publish, uniqueEmail } from "../helpers/gateway";
import { ledgerOf, storedSequence } from "../helpers/ledger";

/** The feed pipeline delivers within its queue's batch timeout (1 s) plus a little. */
const FED = { timeout: 5_000 };

const NDJSON = "application/x-ndjson";

function importBody(body: string, { contentType = NDJSON, authorization = basic("acme"), headers = {} as Record<string, string> } = {}) {
  return call("/v1/consent/import", { method: "POST", headers: { "Content-Type": contentType, Authorization: authorization, ...headers }, body });
}

const ndjson = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join("\n") + "\n";
const importNdjson = (events: unknown[], authorization?: string) => importBody(ndjson(events), { authorization });
const importArray = (events: unknown[], authorization?: string) => importBody(JSON.stringify(events), { contentType: "application/json", authorization });

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

let counter = 0;
const event = (fields: Record<string, unknown> = {}) => ({
  event_id: `crm-${crypto.randomUUID()}-${++counter}`,
  type: "OPT_IN",
  topic: "NEWSLETTER",
  identifier: uniqueEmail("import"),
  occurred_at: minutesAgo(60),
  ...fields,
});

const history = async (identifier: string, authorization?: string) => (await (await list(identifier, "?limit=100", authorization)).json<any>()).events.reverse();

describe("POST /v1/consent/import", () => {
  it("imports NDJSON: each event stored with its occurred_at, seq and the request's proof, answered in request order", async () => {
    const identifier = uniqueEmail();
    const events = [
      event({ identifier, occurred_at: "2024-03-01T09:30:00+01:00", source: "crm", meta: { campaign: "spring" } }),
      event({ identifier, type: "OPT_OUT", occurred_at: "2024-03-02T09:30:00.123Z" }),
      event(),
    ];
    const response = await importBody(ndjson(events), { headers: { "X-Request-Id": "import-req-1", "CF-Connecting-IP": "203.0.113.7" } });
    expect(response.status).toBe(200);
    const answer = await response.json<any>();
    expect(answer).toEqual({
      stored: 3,
      duplicates: 0,
      refused: 0,
      results: [
        { line: 1, event_id: events[0]!.event_id, status: "stored", seq: 1 },
        { line: 2, event_id: events[1]!.event_id, status: "stored", seq: 2 },
        { line: 3, event_id: events[2]!.event_id, status: "stored", seq: 1 },
      ],
    });
    const stored = await history(identifier);
    expect(stored).toMatchObject([
      { seq: 1, type: "OPT_IN", topic: "NEWSLETTER", source: "crm", meta: { campaign: "spring" }, occurred_at: "2024-03-01T09:30:00+01:00", proof: { recorded_by: "acme", request_id: "import-req-1", client_ip: "203.0.113.7" } },
      { seq: 2, type: "OPT_OUT", occurred_at: "2024-03-02T09:30:00.123Z" },
    ]);
    // created_at is the gateway's own time: the import is when it learned of the event.
    expect(Date.now() - Date.parse(stored[0].created_at)).toBeLessThan(60_000);
  });

  it("imports a JSON array the same way (line = place in the array), and answers 1 to 1,000 events", async () => {
    const run = crypto.randomUUID();
    const events = Array.from({ length: 1000 }, (_, i) => event({ identifier: `bulk-${i % 50}-${run}@example.com` }));
    const response = await importArray(events);
    expect(response.status).toBe(200);
    const answer = await response.json<any>();
    expect(answer).toMatchObject({ stored: 1000, duplicates: 0, refused: 0 });
    expect(answer.results.map((r: any) => r.line)).toEqual(events.map((_, i) => i + 1));
    expect(answer.results.map((r: any) => r.event_id)).toEqual(events.map((e) => e.event_id));
    // 50 identifiers with 20 events each: each history is numbered 1..20.
    expect(answer.results.filter((r: any) => r.seq === 20)).toHaveLength(50);
  }, 30_000);

  it("refuses a bad line with the codes publish answers, and records the good ones", async () => {
    const bad = [
      { type: "MAYBE", topic: "T", identifier: "x@example.com" },
      { type: "OPT_IN", topic: 5, identifier: "x@example.com", meta: [] },
      { type: "OPT_IN", topic: "T\u0007", identifier: " ", source: "" },
      { type: "DOUBLE_OPT_IN", topic: "T", identifier: "x@example.com", meta: { notice_version: 3 } },
    ];
    const good = event();
    const lines = bad.map((body) => ({ ...body, event_id: `bad-${crypto.randomUUID()}`, occurred_at: minutesAgo(1) }));
    const response = await importNdjson([lines[0], good, ...lines.slice(1)]);
    expect(response.status).toBe(200);
    const answer = await response.json<any>();
    expect(answer).toMatchObject({ stored: 1, duplicates: 0, refused: 4 });
    const refusals = answer.results.filter((r: any) => r.status === "refused");
    for (const [i, body] of bad.entries()) {
      const published = await (await publish(body)).json<any>();
      expect(refusals[i]).toEqual({ line: i === 0 ? 1 : i + 2, event_id: lines[i]!.event_id, status: "refused", errors: published.errors });
    }
    expect((await history(good.identifier)).map((e: any) => e.type)).toEqual(["OPT_IN"]);
    expect((await history("x@example.com")).filter((e: any) => e.topic === "T")).toEqual([]);
  });

  it("refuses a malformed line, JSON that would not be stored as sent, a non-object, a missing event_id or occurred_at, each on its own line", async () => {
    const good = event();
    const text = [
      '{"event_id": "a", "type": "OPT_IN",',
      JSON.stringify(good),
      '{"event_id":"b","event_id":"c"}',
      "[1,2]",
      '{"type":"OPT_IN","topic":"T","identifier":"y@example.com","occurred_at":"2024-01-01T00:00:00Z"}',
      JSON.stringify({ ...event(), occurred_at: "2024-01-01 00:00" }),
      JSON.stringify({ ...event(), occurred_at: "2024-01-01T00:00:00" }),
      JSON.stringify({ ...event(), meta: { n: 1 }, event_id: 7 }),
      '{"n": 12345678901234567890}',
    ].join("\r\n");
    const answer = await (await importBody(`\n${text}\n\n`)).json<any>();
    expect(answer).toMatchObject({ stored: 1, refused: 8 });
    const codes = answer.results.map((r: any) => [r.line, r.status, r.errors?.map((e: any) => `${e.path}:${e.code}`).sort()]);
    expect(codes).toEqual([
      [2, "refused", [":malformed_json"]],
      [3, "stored", undefined],
      [4, "refused", [":duplicate_key"]],
      [5, "refused", [":invalid_type"]],
      [6, "refused", ["event_id:required"]],
      [7, "refused", ["occurred_at:invalid_format"]],
      [8, "refused", ["occurred_at:invalid_format"]],
      [9, "refused", ["event_id:invalid_type"]],
      [10, "refused", ["n:imprecise_number"]],
    ]);
    // The event_id is answered when the line has one that is a string.
    expect(answer.results[2].event_id).toBeUndefined();
    expect(answer.results[5].event_id).toBeTypeOf("string");
  });

  it("refuses an occurred_at in the future or before 1970, per line", async () => {
    const future = event({ occurred_at: new Date(Date.now() + 60_000).toISOString() });
    const offsetFuture = event({ occurred_at: new Date(Date.now() + 3_600_000).toISOString().replace("Z", "+00:00") });
    const ancient = event({ occurred_at: "1969-12-31T23:59:59Z" });
    const now = event({ occurred_at: new Date().toISOString() });
    const answer = await (await importNdjson([future, offsetFuture, ancient, now])).json<any>();
    expect(answer.results.map((r: any) => [r.status, r.errors?.[0]?.path, r.errors?.[0]?.code])).toEqual([
      ["refused", "occurred_at", "too_big"],
      ["refused", "occurred_at", "too_big"],
      ["refused", "occurred_at", "out_of_range"],
      ["stored", undefined, undefined],
    ]);
    expect(answer.results[0].errors[0]).toMatchObject({ location: "body", message: "must not be in the future" });
    expect(await history(future.identifier)).toEqual([]);
  });

  it("answers a re-import of the same file all duplicates and records nothing new", async () => {
    const identifier = uniqueEmail();
    const file = ndjson([event({ identifier }), event({ identifier, type: "OPT_OUT" }), event()]);
    expect((await (await importBody(file)).json<any>()).stored).toBe(3);
    const again = await (await importBody(file)).json<any>();
    expect(again).toMatchObject({ stored: 0, duplicates: 3, refused: 0 });
    expect(again.results.every((r: any) => r.status === "duplicate" && r.seq === undefined)).toBe(true);
    expect(await history(identifier)).toHaveLength(2);
    expect(await storedSequence(ledgerOf("org-acme", identifier).stub)).toHaveLength(2);
  });

  it("within a request: a repeat of an event_id with the same content is a duplicate, with other content refused", async () => {
    const first = event();
    const answer = await (await importNdjson([first, first, { ...first, type: "OPT_OUT" }, { ...first, identifier: uniqueEmail() }])).json<any>();
    expect(answer.results.map((r: any) => [r.status, r.errors?.[0]?.code])).toEqual([
      ["stored", undefined],
      ["duplicate", undefined],
      ["refused", "duplicate_event_id"],
      ["refused", "duplicate_event_id"],
    ]);
    expect(answer.results[2].errors[0]).toMatchObject({ location: "body", path: "event_id" });
    expect(await history(first.identifier)).toHaveLength(1);
  });

  it("the same event_id for another identifier in a later request is another event; a publish's history is unaffected", async () => {
    const shared = `crm-${crypto.randomUUID()}`;
    const [a, b] = [uniqueEmail(), uniqueEmail()];
    expect((await (await importNdjson([event({ event_id: shared, identifier: a })])).json<any>()).stored).toBe(1);
    expect((await (await importNdjson([event({ event_id: shared, identifier: b })])).json<any>()).stored).toBe(1);
    // An identifier's spellings are one identifier: the id is found again.
    expect((await (await importNdjson([event({ event_id: shared, identifier: a.toUpperCase() })])).json<any>()).duplicates).toBe(1);
  });

  it("an import's event ids never collide with Copilot Collect's, though both live in the ledger's event_id column", async () => {
    const user = `user-${crypto.randomUUID()}`;
    const collect = await call("/v2/api/collect", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: basic("acme") },
      body: JSON.stringify({ events: [{ type: "user_created", event_id: "shared-id", timestamp: Date.now() - 1000, payload: { user_id: user, copilot_analysis_consent: true } }] }),
    });
    expect(collect.status).toBe(200);
    const answer = await (await importNdjson([event({ event_id: "shared-id", identifier: user, topic: "COPILOT_ANALYSIS" })])).json<any>();
    expect(answer.results[0]).toMatchObject({ status: "stored", seq: 2 });
  });

  it("appends each identifier's events in occurred_at order, whatever the order of the request (ties in request order)", async () => {
    const identifier = uniqueEmail();
    const times = ["2024-05-03T10:00:00Z", "2024-05-01T12:00:00+02:00", "2024-05-02T10:00:00Z", "2024-05-01T10:00:00Z", "2024-05-01T09:00:00-01:00"];
    const events = times.map((occurred_at, i) => event({ identifier, occurred_at, meta: { i } }));
    const answer = await (await importNdjson([event(), ...events])).json<any>();
    // 2024-05-01T10:00Z three times (lines 3, 5, 6): request order; then 05-02, then 05-03.
    expect(answer.results.slice(1).map((r: any) => r.seq)).toEqual([5, 1, 4, 2, 3]);
    expect((await history(identifier)).map((e: any) => e.meta.i)).toEqual([1, 3, 4, 2, 0]);
  });

  it("more than 1,000 events: 413 problem details, and nothing recorded", async () => {
    const identifier = uniqueEmail();
    const events = Array.from({ length: 1001 }, () => event({ identifier }));
    for (const response of [await importNdjson(events), await importArray(events)]) {
      expect(response.status).toBe(413);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
      expect(await response.json()).toMatchObject({ type: "urn:consent-gateway:problem:payload_too_large", status: 413, detail: expect.stringContaining("at most 1000 events") });
    }
    expect(await history(identifier)).toEqual([]);
  });

  it("a body over 8 MiB: 413; a body of 1,000 events with a few KiB of meta each is taken", async () => {
    const huge = await importBody(`${JSON.stringify(event({ meta: { pad: "x".repeat(30_000) } }))}\n`.repeat(290));
    expect(huge.status).toBe(413);
    const run = crypto.randomUUID();
    const sized = await importNdjson(Array.from({ length: 1000 }, (_, i) => event({ identifier: `sized-${i % 20}-${run}@example.com`, meta: { pad: "x".repeat(4_000) } })));
    expect(sized.status).toBe(200);
    expect((await sized.json<any>()).stored).toBe(1000);
  }, 30_000);

  it.each([
    ["an empty body", "", NDJSON, 400, "required"],
    ["only blank lines", "\n \r\n\n", NDJSON, 400, "required"],
    ["an empty array", "[]", "application/json", 400, "too_small"],
    ["a JSON object", JSON.stringify(event()), "application/json", 400, "not_an_array"],
    ["NDJSON sent as JSON", ndjson([event(), event()]), "application/json", 400, "not_an_array"],
    ["an array that does not close", `[${JSON.stringify(event())}`, "application/json", 400, "not_an_array"],
    ["trailing text after the array", `[${JSON.stringify(event())}] x`, "application/json", 400, "not_an_array"],
    ["bytes that are not UTF-8", "\uFFFF", NDJSON, 400, "invalid_utf8"],
  ])("refuses %s with a clear 4xx, recording nothing", async (_, body, contentType, status, code) => {
    const bytes = code === "invalid_utf8" ? new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) : body;
    const response = await call("/v1/consent/import", { method: "POST", headers: { "Content-Type": contentType, Authorization: basic("acme") }, body: bytes });
    expect(response.status).toBe(status);
    expect((await response.json<any>()).errors).toEqual([expect.objectContaining({ location: "body", path: "", code })]);
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "", "application/ndjson"])("refuses Content-Type %j with 415", async (contentType) => {
    const response = await importBody(ndjson([event()]), { contentType });
    expect(response.status).toBe(415);
    expect((await response.json<any>()).type).toBe("urn:consent-gateway:problem:unsupported_media_type");
  });

  it("accepts a media type with parameters, and an element of the array that is malformed refuses only itself", async () => {
    const good = event();
    const withCharset = await importBody(ndjson([good]), { contentType: "application/x-ndjson; charset=utf-8" });
    expect((await withCharset.json<any>()).stored).toBe(1);
    const array = `[ {"event_id": tru}, ${JSON.stringify(event())} , "text", {"a": [1, {"b": "]}"}]} ]`;
    const answer = await (await importBody(array, { contentType: "application/json" })).json<any>();
    expect(answer.results.map((r: any) => [r.line, r.status, r.errors?.[0]?.code])).toEqual([
      [1, "refused", "malformed_json"],
      [2, "stored", undefined],
      [3, "refused", "invalid_type"],
      [4, "refused", "invalid_value"],
    ]);
  });

  it("needs consent:write; another organization sees nothing of an import", async () => {
    const imported = event();
    expect((await importNdjson([imported], basic("acme-reader"))).status).toBe(403);
    expect((await importNdjson([imported], "Basic bm9wZTpub3Bl")).status).toBe(401);
    expect((await importNdjson([imported], basic("acme-writer"))).status).toBe(200);
    expect(await history(imported.identifier, basic("globex"))).toEqual([]);
    // The same file in another organization is that organization's own import: not a duplicate.
    const globex = await (await importNdjson([imported], basic("globex"))).json<any>();
    expect(globex).toMatchObject({ stored: 1, duplicates: 0 });
    expect((await history(imported.identifier)).map((e: any) => e.organization_id)).toEqual(["org-acme"]);
    await vi.waitFor(async () => {
      const feed = await (await call(`/v1/events?topic=NEWSLETTER&limit=500&since=${minutesAgo(2)}`, { headers: { Authorization: basic("globex") } })).json<any>();
      expect(feed.events.filter((e: any) => e.identifier === imported.identifier).map((e: any) => e.organization_id)).toEqual(["org-globex"]);
    }, FED);
  });

  it("events reach the organization's feed (D1) through the queue, with occurred_at", async () => {
    const topic = `IMPORT-${crypto.randomUUID()}`;
    const events = [event({ topic }), event({ topic, type: "OPT_OUT" }), event({ topic, occurred_at: "2023-07-01T00:00:00+02:00" })];
    expect((await (await importNdjson(events)).json<any>()).stored).toBe(3);
    await vi.waitFor(async () => {
      const feed = await (await call(`/v1/events?topic=${topic}`, { headers: { Authorization: basic("acme") } })).json<any>();
      expect(feed.events.map((e: any) => [e.identifier, e.type, e.occurred_at]).sort()).toEqual(events.map((e) => [e.identifier, e.type, e.occurred_at]).sort());
    }, FED);
    const audience = await (await call(`/v1/consent?topic=${topic}`, { headers: { Authorization: basic("acme") } })).json<any>();
    expect(audience.identifiers.map((i: any) => i.identifier).sort()).toEqual([events[0]!.identifier, events[2]!.identifier].sort());
  });

  it("with an Idempotency-Key, a retry replays the first answer", async () => {
    const file = ndjson([event(), event()]);
    const key = crypto.randomUUID();
    const first = await importBody(file, { headers: { "Idempotency-Key": key } });
    const again = await importBody(file, { headers: { "Idempotency-Key": key } });
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    expect((await importBody(ndjson([event()]), { headers: { "Idempotency-Key": key } })).status).toBe(422);
  });

  it("a ledger that fails: 503, the other identifiers' events are recorded, and sending the same request again completes it", async () => {
    const [ok, failing] = [uniqueEmail("ok"), uniqueEmail("failing")];
    const file = ndjson([event({ identifier: ok }), event({ identifier: failing }), event({ identifier: failing, type: "OPT_OUT" })]);
    const failingId = ledgerOf("org-acme", failing).id;
    // The real namespace, but RPCs to one object fail (an overloaded object, say).
    const namespace = new Proxy(env.IDENTIFIER_LEDGER, {
      get(target, property) {
        if (property === "get") {
          return (id: DurableObjectId) => {
            const stub = target.get(id);
            if (!id.equals(failingId)) return stub;
            return new Proxy(stub, { get: (s, p) => (p === "appendMany" ? () => Promise.reject(new Error("Durable Object is overloaded")) : Reflect.get(s, p)) });
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const request = new Request("https://gateway.test/v1/consent/import", { method: "POST", headers: { "Content-Type": NDJSON, Authorization: basic("acme") }, body: file });
    const logs = captureConsole();
    const ctx = createExecutionContext();
    const interrupted = await app.fetch(request, { ...env, IDENTIFIER_LEDGER: namespace }, ctx);
    await waitOnExecutionContext(ctx);
    expect(interrupted.status).toBe(503);
    expect(interrupted.headers.get("Retry-After")).toBe("1");
    expect((await interrupted.json<any>()).detail).toMatch(/1 of the request's 2 identifiers.*Send the same request again/);
    expect(logs.lines()).toEqual([expect.stringMatching(/"an import was interrupted.*"failed":1,"identifiers":2.*Durable Object is overloaded/)]);
    logs.restore();
    expect(await history(ok)).toHaveLength(1);
    expect(await history(failing)).toEqual([]);
    const retried = await (await importBody(file)).json<any>();
    expect(retried.results.map((r: any) => r.status)).toEqual(["duplicate", "stored", "stored"]);
  });
});
