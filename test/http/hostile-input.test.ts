import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { signLink } from "../../src/consent/link-token";
import { MAX_JSON_DEPTH } from "../../src/http/strict-json";
import { TEST_SIGNING_KEY } from "../fixtures/credentials";
import { basic, call, list, publish, uniqueEmail } from "../helpers/gateway";
import { fedRows } from "../helpers/ledger";

/** A raw JSON text body, for what JSON.stringify cannot produce (duplicate keys, 1e400). */
const publishRaw = (body: string | Uint8Array, path = "/v1/consent/publish") =>
  call(path, { method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("acme") }, body });

const problem = async (response: Response) => {
  expect(response.status).toBe(400);
  return (await response.json<any>()).errors as { path: string; code: string; message: string }[];
};

const total = async (identifier: string) => (await (await list(identifier)).json<any>()).total as number;

describe("text that names a person, topic or source", () => {
  it.each([
    ["a lone low surrogate", "\udfff-user"],
    ["a lone high surrogate", "user-\ud800"],
  ])("refuses %s in every field, on both APIs, and keeps refusing", async (_, bad) => {
    for (const field of ["identifier", "topic", "source"]) {
      const body = { type: "OPT_IN", topic: "T", source: "s", identifier: uniqueEmail(), [field]: bad };
      expect(await problem(await publish(body))).toEqual([{ location: "body", path: field, code: "invalid_unicode", message: expect.stringContaining("well-formed Unicode") }]);
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await publishRaw(JSON.stringify({ consent_value: false, user_id: bad }), "/v2/api/report/user_copilot_analysis_consent_changed");
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        reason: "COMMON.REQUEST_VALIDATION",
        error_message: "1 validation error: [ must be well-formed Unicode (it has a lone surrogate) --> user_id ]",
      });
    }
  });

  it("refuses control characters, and still accepts right-to-left text", async () => {
    for (const bad of ["nul\u0000@example.com", "line\nbreak", "del\u007f", "c1\u0085"]) {
      expect(await problem(await publish({ type: "OPT_IN", topic: "T", identifier: bad }))).toMatchObject([{ path: "identifier", code: "control_character" }]);
    }
    const arabic = `\u200fمستخدم-${crypto.randomUUID()}`;
    expect((await publish({ type: "OPT_OUT", topic: "نشرة", identifier: arabic })).status).toBe(201);
    expect(await total(arabic)).toBe(1);
  });

  it("refuses an escaped lone surrogate anywhere in a body, keys included", async () => {
    const errors = await problem(await publishRaw(`{"type":"OPT_IN","topic":"T","identifier":"x@example.com","meta":{"note":"\\ud83d"}}`));
    expect(errors).toEqual([{ location: "body", path: "meta.note", code: "invalid_unicode", message: expect.any(String) }]);
    const keyed = await problem(await publishRaw(`{"type":"OPT_IN","topic":"T","identifier":"x@example.com","meta":{"\\udc00":1}}`));
    expect(keyed).toMatchObject([{ path: "meta", code: "invalid_unicode" }]);
    // A proper pair is fine.
    expect((await publishRaw(`{"type":"OPT_IN","topic":"T","identifier":"${uniqueEmail()}","meta":{"note":"\\ud83d\\ude00"}}`)).status).toBe(201);
  });

  it("refuses a body that is not UTF-8", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"type":"OPT_IN","topic":"'), 0xc3, 0x28, ...new TextEncoder().encode('","identifier":"a@b.c"}')]);
    expect(await problem(await publishRaw(bytes))).toEqual([{ location: "body", path: "", code: "invalid_utf8", message: "is not valid UTF-8" }]);
  });
});

describe("meta is evidence: stored exactly as sent, or refused", () => {
  const withMeta = (identifier: string, meta: string) => `{"type":"OPT_IN","topic":"T","identifier":"${identifier}","meta":${meta}}`;

  it("refuses nesting thousands of levels deep with a 400, in meta and anywhere else", async () => {
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    expect(await problem(await publishRaw(withMeta("x@example.com", `{"a":${deep(5000)}}`)))).toEqual([
      { location: "body", path: `meta.a${".0".repeat(MAX_JSON_DEPTH - 2)}`, code: "too_deep", message: `is nested more than ${MAX_JSON_DEPTH} levels deep` },
    ]);
    expect((await publishRaw(deep(100_000))).status).toBe(400);
    // Within the body's bound but over meta's own.
    expect(await problem(await publishRaw(withMeta("x@example.com", `{"a":${deep(12)}}`)))).toMatchObject([{ path: "meta", code: "too_deep" }]);
  });

  it("keeps a __proto__ key as an ordinary key, through the ledger and the D1 index", async () => {
    const identifier = uniqueEmail();
    const response = await publishRaw(withMeta(identifier, `{"__proto__":{"admin":true},"constructor":"c"}`));
    expect(response.status).toBe(201);
    expect(await response.text()).toContain(`"meta":{"__proto__":{"admin":true},"constructor":"c"}`);
    const listed = await (await list(identifier)).text();
    expect(listed).toContain(`"meta":{"__proto__":{"admin":true},"constructor":"c"}`);
    await vi.waitFor(async () => expect((await fedRows("org-acme", identifier)).map((r) => r.meta)).toEqual(['{"__proto__":{"admin":true},"constructor":"c"}']), { timeout: 5_000 });
  });

  it.each([
    ["1e400", "number_out_of_range"],
    ["-1e400", "number_out_of_range"],
    ["1e-400", "number_out_of_range"],
    ["9".repeat(400), "number_out_of_range"],
    ["12345678901234567890", "imprecise_number"],
  ])("refuses %s, which JSON.parse would not keep, naming the key", async (number, code) => {
    const identifier = uniqueEmail();
    expect(await problem(await publishRaw(withMeta(identifier, `{"amount":${number}}`)))).toMatchObject([{ path: "meta.amount", code }]);
    expect(await total(identifier)).toBe(0);
  });

  it("keeps numbers that doubles carry", async () => {
    const identifier = uniqueEmail();
    const response = await publishRaw(withMeta(identifier, `{"a":9007199254740991,"b":-0.5,"c":1e300,"d":0}`));
    expect(response.status).toBe(201);
    expect((await response.json<any>()).meta).toEqual({ a: 9007199254740991, b: -0.5, c: 1e300, d: 0 });
  });

  it("refuses duplicate keys, which would silently keep only the last", async () => {
    expect(await problem(await publishRaw(withMeta("x@example.com", `{"consent":"no","consent":"yes"}`)))).toEqual([
      { location: "body", path: "meta", code: "duplicate_key", message: 'has the key "consent" more than once' },
    ]);
    expect(await problem(await publishRaw(`{"type":"OPT_OUT","type":"OPT_IN","topic":"T","identifier":"x@example.com"}`))).toMatchObject([
      { path: "", code: "duplicate_key" },
    ]);
    // The same key spelled with an escape is the same key.
    expect(await problem(await publishRaw(withMeta("x@example.com", `{"a":1,"\\u0061":2}`)))).toMatchObject([{ code: "duplicate_key" }]);
  });
});

describe("GET /v1/events time bounds", () => {
  const feed = (query: string) => call(`/v1/events${query}`, { headers: { Authorization: basic("acme") } });

  it("refuses instants past year 9999 in UTC instead of matching everything", async () => {
    const errors = await problem(await feed(`?since=${encodeURIComponent("9999-12-31T23:59:59-23:59")}`));
    expect(errors).toMatchObject([{ location: "query", path: "since", code: "out_of_range" }]);
    expect(await problem(await feed("?until=1969-12-31T23:59:59Z"))).toMatchObject([{ path: "until", code: "out_of_range" }]);
  });

  it("refuses an empty range", async () => {
    expect(await problem(await feed("?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"))).toMatchObject([{ path: "until", code: "empty_range" }]);
  });

  it("compares instants, whatever offset they are written in", async () => {
    const topic = `TZ-${crypto.randomUUID()}`;
    const event = await (await publish({ type: "OPT_IN", topic, identifier: uniqueEmail() })).json<any>();
    const created = Date.parse(event.created_at);
    /** `time` written in the +05:00 or -05:00 offset. */
    const inOffset = (time: number, hours: number) => {
      const local = new Date(time + hours * 3_600_000).toISOString().slice(0, 23);
      return encodeURIComponent(`${local}${hours < 0 ? "-" : "+"}0${Math.abs(hours)}:00`);
    };
    const count = async (query: string) => (await (await feed(`?topic=${topic}${query}`)).json<any>()).events.length as number;
    await vi.waitFor(async () => expect(await count("")).toBe(1), { timeout: 5_000 });
    expect(await count(`&since=${inOffset(created, 5)}`)).toBe(1);
    expect(await count(`&since=${inOffset(created + 1, -5)}`)).toBe(0);
    expect(await count(`&until=${inOffset(created + 1, 5)}`)).toBe(1);
    expect(await count(`&until=${inOffset(created, -5)}`)).toBe(0);
  });
});

describe("links", () => {
  it("answers a link signed with the real key but naming no ledger with the invalid-link page", async () => {
    for (const ledgerId of ["0".repeat(64), "f".repeat(64)]) {
      const { token } = await signLink(
        { purpose: "opt-in", organizationId: "org-acme", ledgerId, topic: "T", requestSequence: 1 },
        { current: TEST_SIGNING_KEY, previous: [] },
        { ttlSeconds: 3600 },
      );
      for (const method of ["GET", "POST"]) {
        const response = await exports.default.fetch(new Request(`https://gateway.test/v1/opt-in/${token}`, { method }));
        expect(response.status).toBe(400);
        expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
      }
      const json = await exports.default.fetch(new Request(`https://gateway.test/v1/opt-in/${token}`, { headers: { Accept: "application/json" } }));
      expect(await json.json()).toMatchObject({ type: "urn:consent-gateway:problem:invalid_link", status: 400 });
    }
  });
});
