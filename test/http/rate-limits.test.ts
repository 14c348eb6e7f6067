import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SEED_EVENT_REQUEST } from "../../src/consent-event";
import { SUITE_RATE_LIMIT } from "../fixtures/rate-limits";
import { captureConsole } from "../helpers/console";
import { basic, hs256, list, postJson, uniqueEmail } from "../helpers/gateway";
import { callWith, wrapLimiter } from "../helpers/limits";

const { limit: Q, period: W } = SUITE_RATE_LIMIT;
const json = (body: unknown, authorization = basic("acme"), headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: authorization, ...headers },
  body: JSON.stringify(body),
});
const total = async (identifier: string) => (await (await list(identifier)).json<{ total: number }>()).total;

/** The headers every 429 carries, for the policy named `name`. */
function expectLimitHeaders(response: Response, name: string) {
  expect(response.status).toBe(429);
  expect(response.headers.get("Retry-After")).toBe(String(W));
  expect(response.headers.get("RateLimit-Policy")).toBe(`"${name}";q=${Q};w=${W}`);
  expect(response.headers.get("RateLimit")).toBe(`"${name}";r=0;t=${W}`);
}

describe("per organization, after authentication", () => {
  it("refuses a publish with problem details, records nothing and creates no idempotency record", async () => {
    const { keys, binding } = wrapLimiter(env.API_RATE_LIMITER);
    const identifier = uniqueEmail("limited");
    const body = { ...SEED_EVENT_REQUEST, identifier };
    const key = crypto.randomUUID();
    const refused = await callWith({ API_RATE_LIMITER: binding }, "/v1/consent/publish", json(body, basic("acme"), { "Idempotency-Key": key }));
    expectLimitHeaders(refused, "org");
    expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ type: "urn:consent-gateway:problem:rate_limited", title: "Too many requests", status: 429 });
    expect(keys).toEqual(["org-acme"]);
    expect(await total(identifier)).toBe(0);
    // The same key afterwards is a first request, not a replay of the 429.
    const later = await callWith({}, "/v1/consent/publish", json(body, basic("acme"), { "Idempotency-Key": key }));
    expect(later.status).toBe(201);
    expect(later.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await total(identifier)).toBe(1);
  });

  it("counts every authenticated operation of the organization, Basic or Bearer, reads too", async () => {
    const { keys, binding } = wrapLimiter(env.API_RATE_LIMITER);
    const bearer = await hs256({ organization_id: "org-globex", sub: "svc" });
    for (const [path, authorization] of [
      ["/v1/events", basic("acme-reader")],
      ["/v1/consent/x%40example.com/state", bearer],
      ["/v1/consent?topic=NEWSLETTER&status=granted", basic("acme")],
    ] as const) {
      const response = await callWith({ API_RATE_LIMITER: binding }, path, { headers: { Authorization: authorization } });
      expectLimitHeaders(response, "org");
    }
    expect(keys).toEqual(["org-acme", "org-globex", "org-acme"]);
  });

  it("answers in Copilot's format on the Copilot surface", async () => {
    const { binding } = wrapLimiter(env.API_RATE_LIMITER);
    const user_id = crypto.randomUUID();
    const response = await callWith({ API_RATE_LIMITER: binding }, "/v2/api/report/user_copilot_analysis_consent_changed", json({ consent_value: true, user_id }));
    expectLimitHeaders(response, "org");
    expect(await response.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: expect.stringContaining(`more than ${Q} requests in ${W} seconds`) });
    expect(await total(user_id)).toBe(0);
  });

  it("does not count a request that fails authentication, nor let it learn the limit", async () => {
    const { keys, binding } = wrapLimiter(env.API_RATE_LIMITER);
    const response = await callWith({ API_RATE_LIMITER: binding }, "/v1/events", { headers: { Authorization: basic("acme", "wrong") } });
    expect(response.status).toBe(401);
    expect(keys).toEqual([]);
  });

  it("lets requests through when the limiter itself fails, and logs it", async () => {
    const console = captureConsole();
    const { keys, binding } = wrapLimiter(env.API_RATE_LIMITER, { failing: true });
    const response = await callWith({ API_RATE_LIMITER: binding }, "/v1/events", { headers: { Authorization: basic("acme") } });
    expect(response.status).toBe(200);
    expect(keys).toEqual(["org-acme"]);
    expect(console.lines().filter((l) => l.includes("a rate limiter failed"))).toHaveLength(1);
  });
});

describe("per presented client id, on authentication failures only", () => {
  it("answers a failure over the limit 429 instead of 401, keyed by the Basic client id", async () => {
    const { keys, binding } = wrapLimiter(env.AUTH_FAILURE_RATE_LIMITER);
    const response = await callWith({ AUTH_FAILURE_RATE_LIMITER: binding }, "/v1/events", { headers: { Authorization: basic("acme", "guess") } });
    expectLimitHeaders(response, "auth-failures");
    expect(await response.json()).toMatchObject({ type: "urn:consent-gateway:problem:rate_limited", detail: expect.stringContaining("failed authentications") });
    expect(keys).toEqual(["basic:acme"]);
  });

  it("keys a refused JWT by its issuer and subject, and a request naming no one by its address", async () => {
    const { keys, binding } = wrapLimiter(env.AUTH_FAILURE_RATE_LIMITER, { refusing: false });
    const forged = await hs256({ organization_id: "org-acme", iss: "https://idp.example", sub: "mallory" }, { secret: "another-secret-that-is-long-enough-000000" });
    const bindings = { AUTH_FAILURE_RATE_LIMITER: binding };
    expect((await callWith(bindings, "/v1/events", { headers: { Authorization: forged } })).status).toBe(401);
    expect((await callWith(bindings, "/v1/events", { headers: { "CF-Connecting-IP": "198.51.100.4" } })).status).toBe(401);
    expect((await callWith(bindings, "/v1/events", { headers: { Authorization: "Bearer not-a-jwt", "CF-Connecting-IP": "198.51.100.4" } })).status).toBe(401);
    expect(keys).toEqual(["jwt:https://idp.example mallory", "ip:198.51.100.4", "ip:198.51.100.4"]);
  });

  it("never counts a request that authenticates", async () => {
    const { keys, binding } = wrapLimiter(env.AUTH_FAILURE_RATE_LIMITER);
    const response = await callWith({ AUTH_FAILURE_RATE_LIMITER: binding }, "/v1/events", { headers: { Authorization: basic("acme") } });
    expect(response.status).toBe(200);
    expect(keys).toEqual([]);
  });

  it("answers in Copilot's format on the Copilot surface", async () => {
    const { binding } = wrapLimiter(env.AUTH_FAILURE_RATE_LIMITER);
    const response = await callWith({ AUTH_FAILURE_RATE_LIMITER: binding }, "/v2/api/collect", json({ events: [] }, basic("acme", "guess")));
    expectLimitHeaders(response, "auth-failures");
    expect(await response.json()).toMatchObject({ reason: "COMMON.REQUEST_VALIDATION" });
  });
});

describe("per client IP, on the public link pages", () => {
  async function optInLink() {
    const response = await postJson("/v1/consent/double-opt-in", { topic: "NEWSLETTER", identifier: uniqueEmail("limited-doi"), source: "signup-form" });
    expect(response.status).toBe(201);
    return new URL((await response.json<{ opt_in_url: string }>()).opt_in_url);
  }

  it("answers a page in the reader's language, keyed by CF-Connecting-IP", async () => {
    const { keys, binding } = wrapLimiter(env.PUBLIC_RATE_LIMITER);
    const link = await optInLink();
    const german = await callWith({ PUBLIC_RATE_LIMITER: binding }, link.pathname, { headers: { "CF-Connecting-IP": "203.0.113.9", "Accept-Language": "de-DE" } });
    expectLimitHeaders(german, "ip");
    expect(german.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await german.text();
    expect(html).toMatch(/^<!doctype html><html lang="de" dir="ltr">/);
    expect(html).toContain("<h1>Zu viele Anfragen</h1>");
    expect(html).toContain("Bitte warten Sie 60 Sekunden");
    const arabic = await callWith({ PUBLIC_RATE_LIMITER: binding }, `${link.pathname}?lang=ar`, { headers: { "CF-Connecting-IP": "203.0.113.9" } });
    expect(await arabic.text()).toMatch(/^<!doctype html><html lang="ar" dir="rtl">/);
    expect(keys).toEqual(["203.0.113.9", "203.0.113.9"]);
  });

  it("refuses a confirmation before it records anything, and answers problem details to a client that prefers JSON", async () => {
    const { binding } = wrapLimiter(env.PUBLIC_RATE_LIMITER);
    const link = await optInLink();
    const click = await callWith({ PUBLIC_RATE_LIMITER: binding }, `${link.pathname}?lang=en`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: "confirm=yes",
    });
    expectLimitHeaders(click, "ip");
    expect(click.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await click.json()).toMatchObject({ type: "urn:consent-gateway:problem:rate_limited" });
    // The link still works: nothing was recorded or spent.
    const later = await callWith({}, `${link.pathname}?lang=en`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" }, body: "confirm=yes" });
    expect(await later.json()).toMatchObject({ outcome: "confirmed" });
  });

  it("refuses a forged link too, before verifying it", async () => {
    const { keys, binding } = wrapLimiter(env.PUBLIC_RATE_LIMITER);
    const response = await callWith({ PUBLIC_RATE_LIMITER: binding }, "/v1/opt-out/forged.token.here?lang=en");
    expectLimitHeaders(response, "ip");
    expect(await response.text()).toContain("<h1>Too many requests</h1>");
    expect(keys).toEqual(["unknown"]);
  });
});
