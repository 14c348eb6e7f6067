import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signLink } from "../../src/consent/link-token";
import { TEST_SIGNING_KEY } from "../fixtures/credentials";
import { basic, call, hs256, postJson } from "../helpers/gateway";
import { expectRefusal, expectSuccessOrRefusal, hostileString, RUNS } from "./arbitraries";

/**
 * Percent-encodes any UTF-16 string, lone surrogates included (as WTF-8 bytes, which
 * encodeURIComponent refuses to produce): what a hostile client can put in a URL.
 */
function percentEncode(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const pair = unit >= 0xd800 && unit <= 0xdbff ? text.charCodeAt(i + 1) : NaN;
    const point = pair >= 0xdc00 && pair <= 0xdfff ? ((unit - 0xd800) << 10) + (pair - 0xdc00) + 0x10000 : unit;
    if (point > 0xffff) i++;
    const bytes =
      point < 0x80 ? [point]
      : point < 0x800 ? [0xc0 | (point >> 6), 0x80 | (point & 63)]
      : point < 0x10000 ? [0xe0 | (point >> 12), 0x80 | ((point >> 6) & 63), 0x80 | (point & 63)]
      : [0xf0 | (point >> 18), 0x80 | ((point >> 12) & 63), 0x80 | ((point >> 6) & 63), 0x80 | (point & 63)];
    out += bytes.map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join("");
  }
  return out;
}

/** A URL component: hostile text, raw bytes, or a plausible value. */
const component = fc.oneof(
  hostileString.map(percentEncode),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")),
  fc.constantFrom("0", "1", "-1", "50", "100", "101", "1e3", "0x10", "9".repeat(30), "NaN", "2026-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "OPT_IN", "%", "%zz"),
);

const query = (names: string[]) =>
  fc.array(fc.tuple(fc.constantFrom(...names), component), { maxLength: 5 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}` : ""));

/** Header values a client can send (printable ASCII: the runtime warns on anything else). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });

describe("property: paths, queries and headers never make the gateway fail", { timeout: 60_000 }, () => {
  it("GET /v1/consent/{identifier} with any identifier and query", async () => {
    await fc.assert(
      fc.asyncProperty(component, query(["topic", "limit", "from"]), async (identifier, search) => {
        const response = await call(`/v1/consent/${identifier}${search}`, { headers: { Authorization: basic("acme") } });
        await expectSuccessOrRefusal(response, 200, "epilot", `${identifier}${search}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("GET /v1/events with any query", async () => {
    await fc.assert(
      fc.asyncProperty(query(["topic", "type", "since", "until", "limit", "cursor"]), async (search) => {
        const response = await call(`/v1/events${search}`, { headers: { Authorization: basic("acme") } });
        await expectSuccessOrRefusal(response, 200, "epilot", search);
      }),
      { numRuns: RUNS },
    );
  });

  it("any Authorization header on every protected route", async () => {
    const credential = fc.oneof(
      headerValue,
      headerValue.map((v) => `Basic ${v}`),
      fc.string({ maxLength: 40 }).map((v) => `Basic ${btoa(unescape(encodeURIComponent(v)))}`),
      headerValue.map((v) => `Bearer ${v}`),
      fc.array(fc.base64String({ maxLength: 40 }), { minLength: 3, maxLength: 3 }).map((parts) => `Bearer ${parts.join(".").replace(/[+/=]/g, "")}`),
    );
    const routes: [string, RequestInit, "epilot" | "copilot"][] = [
      ["/v1/consent/publish", { method: "POST", body: '{"type":"OPT_IN","topic":"T","identifier":"fuzz@example.com"}' }, "epilot"],
      ["/v1/consent/double-opt-in", { method: "POST", body: '{"topic":"T","identifier":"fuzz@example.com"}' }, "epilot"],
      ["/v1/consent/fuzz@example.com", {}, "epilot"],
      ["/v1/events", {}, "epilot"],
      ["/v2/api/report/user_copilot_analysis_consent_changed", { method: "POST", body: '{"consent_value":true,"user_id":"fuzz@example.com"}' }, "copilot"],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), credential, async ([path, init, surface], authorization) => {
        const response = await call(path, { ...init, headers: { "Content-Type": "application/json", Authorization: authorization } });
        expect(response.status, authorization).toBe(401);
        await expectRefusal(response, surface, authorization);
      }),
      { numRuns: RUNS },
    );
  });

  it("any Idempotency-Key on the idempotent operations: a success or a well-formed 4xx", async () => {
    // Any byte a header may carry (not NUL, CR or LF), bare or quoted, around the 255-character bound.
    const unit = fc.integer({ min: 0x01, max: 0x7f }).filter((c) => c !== 0x0a && c !== 0x0d).map((c) => String.fromCharCode(c));
    const key = fc.oneof(
      fc.string({ unit, maxLength: 40 }),
      fc.string({ unit, maxLength: 40 }).map((k) => `"${k}"`),
      fc.integer({ min: 250, max: 260 }).map((n) => "k".repeat(n)),
    );
    const routes: [string, string, number, "epilot" | "copilot"][] = [
      ["/v1/consent/publish", '{"type":"OPT_IN","topic":"T","identifier":"fuzz-idempotency@example.com"}', 201, "epilot"],
      ["/v1/consent/double-opt-in", '{"topic":"T","identifier":"fuzz-idempotency@example.com"}', 201, "epilot"],
      ["/v2/api/report/user_copilot_analysis_consent_changed", '{"consent_value":true,"user_id":"fuzz-idempotency"}', 200, "copilot"],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), key, async ([path, body, success, surface], idempotencyKey) => {
        const response = await call(path, { method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("acme"), "Idempotency-Key": idempotencyKey }, body });
        await expectSuccessOrRefusal(response, success, surface, JSON.stringify(idempotencyKey));
      }),
      { numRuns: RUNS },
    );
  });

  it("any token, language and Accept on the link pages", async () => {
    const { token: valid } = await (await postJson("/v1/consent/double-opt-in", { topic: "FUZZ", identifier: "fuzz-links@example.com" })).json<any>().then((links: any) => ({
      token: new URL(links.opt_in_url).pathname.split("/").pop()!,
    }));
    const token = fc.oneof(
      component,
      // The real token with one character changed.
      fc.tuple(fc.nat(valid.length - 1), fc.constantFrom("A", "_", "-", ".", "%2E")).map(([at, c]) => valid.slice(0, at) + c + valid.slice(at + 1)),
      // Tokens we signed, naming hostile organizations, ledgers, topics and sequences.
      fc
        .record({ organizationId: hostileString, ledgerId: fc.oneof(hostileString, fc.stringMatching(/^[0-9a-f]{64}$/)), topic: hostileString, requestSequence: fc.integer() })
        .map((claims) => signLink({ purpose: "opt-in", ...claims }, { current: TEST_SIGNING_KEY, previous: [] }, { ttlSeconds: 60 }).then((s) => s.token)),
    );
    await fc.assert(
      fc.asyncProperty(
        token,
        fc.constantFrom("opt-in", "opt-out"),
        fc.constantFrom("GET", "POST", "HEAD"),
        fc.option(component, { nil: undefined }),
        fc.option(headerValue, { nil: undefined }),
        fc.option(headerValue, { nil: undefined }),
        async (tokenOrPromise, kind, method, lang, accept, acceptLanguage) => {
          const path = `/v1/${kind}/${await tokenOrPromise}${lang === undefined ? "" : `?lang=${lang}`}`;
          const headers = { ...(accept === undefined ? {} : { Accept: accept }), ...(acceptLanguage === undefined ? {} : { "Accept-Language": acceptLanguage }) };
          const response = await exports.default.fetch(new Request(`https://gateway.test${path}`, { method, headers }));
          expect(response.status, path).toBeLessThan(500);
          expect(response.headers.get("X-Request-Id"), path).toBeTruthy();
          if (response.status >= 400 && response.headers.get("Content-Type") !== "application/problem+json") {
            expect(response.headers.get("Content-Type"), path).toMatch(/^text\/html/);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("JWT claims of any shape from a correctly signed token", async () => {
    const claim = fc.oneof(fc.jsonValue(), hostileString);
    await fc.assert(
      fc.asyncProperty(
        fc.record({ organization_id: claim, scope: claim, sub: claim, iss: claim, aud: claim, nbf: claim }, { requiredKeys: [] }),
        async (claims) => {
          const response = await call("/v1/events", { headers: { Authorization: await hs256(claims as Record<string, never>) } });
          await expectSuccessOrRefusal(response, 200, "epilot", JSON.stringify(claims));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
