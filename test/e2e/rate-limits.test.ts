import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../scripts/wrangler-dev.ts";
import { SEED_EVENT_REQUEST } from "../../src/consent-event";
import { rateLimitOptions } from "../fixtures/rate-limits";
import { E2E_SETTINGS } from "./settings";

/**
 * Real bursts against a gateway of its own under wrangler dev, whose limiters allow LIMIT requests
 * per PERIOD seconds. The simulated windows are fixed, so a burst may straddle two of them: a burst
 * of 2 * LIMIT + 1 is refused at least once, and never before its LIMIT-th request.
 */
const LIMIT = 5;
const PERIOD = 10;
const BURST = 2 * LIMIT + 1;
const tight = { limit: LIMIT, period: PERIOD } as const;
const limits = rateLimitOptions({ API_RATE_LIMITER: tight, PUBLIC_RATE_LIMITER: tight, AUTH_FAILURE_RATE_LIMITER: tight });

/** One client per surface, each its own organization, so that the bursts do not share a counter. */
const CLIENTS = ["epilot", "copilot", "links"] as const;
const auth = (id: string, secret = `${id}-secret`) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

let dev: WranglerDev;
beforeAll(async () => {
  const clients = CLIENTS.map((id) => ({ id, secret_sha256: createHash("sha256").update(`${id}-secret`).digest("hex"), organization_id: `org-limits-${id}` }));
  dev = await startWranglerDev((baseUrl) => ({ ...E2E_SETTINGS, ...limits.settings, API_CLIENTS: JSON.stringify(clients), PUBLIC_BASE_URL: baseUrl }), { rateLimits: limits.ratelimits });
});
afterAll(() => dev?.stop());

/** Sends `BURST` requests one after another, answering each response with its body read as text. */
async function burst(request: () => Promise<Response>) {
  const answers: { status: number; headers: Headers; body: string }[] = [];
  for (let i = 0; i < BURST; i++) {
    const response = await request();
    answers.push({ status: response.status, headers: response.headers, body: await response.text() });
  }
  return answers;
}

/** Refused after the limit, and only then; every refusal with its headers. */
function expectLimited(answers: Awaited<ReturnType<typeof burst>>, allowed: number, policy: string) {
  const statuses = answers.map((a) => a.status);
  expect(statuses.slice(0, LIMIT), String(statuses)).toEqual(Array(LIMIT).fill(allowed));
  expect(statuses.every((s) => s === allowed || s === 429), String(statuses)).toBe(true);
  expect(statuses.filter((s) => s === allowed).length, String(statuses)).toBeLessThanOrEqual(2 * LIMIT);
  const refused = answers.filter((a) => a.status === 429);
  expect(refused.length, String(statuses)).toBeGreaterThan(0);
  for (const { headers } of refused) {
    expect(headers.get("Retry-After")).toBe(String(PERIOD));
    expect(headers.get("RateLimit-Policy")).toBe(`"${policy}";q=${LIMIT};w=${PERIOD}`);
    expect(headers.get("RateLimit")).toBe(`"${policy}";r=0;t=${PERIOD}`);
  }
  return refused;
}

/** Until the current window of PERIOD seconds has passed (the simulated windows are aligned to the clock). */
const nextWindow = () => new Promise((resolve) => setTimeout(resolve, PERIOD * 1000 - (Date.now() % (PERIOD * 1000)) + 250));

describe("rate limits under wrangler dev", { timeout: 60_000 }, () => {
  it("refuses an organization's publishes past its limit with problem details, and records none of them", async () => {
    const identifier = `burst-${crypto.randomUUID()}@example.com`;
    const publish = () =>
      fetch(`${dev.baseUrl}/v1/consent/publish`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: auth("epilot"), "Idempotency-Key": crypto.randomUUID() },
        body: JSON.stringify({ ...SEED_EVENT_REQUEST, identifier }),
      });
    const answers = await burst(publish);
    for (const { headers, body } of expectLimited(answers, 201, "org")) {
      expect(headers.get("Content-Type")).toBe("application/problem+json");
      expect(JSON.parse(body)).toMatchObject({ type: "urn:consent-gateway:problem:rate_limited", status: 429 });
    }
    await nextWindow();
    const listed = await fetch(`${dev.baseUrl}/v1/consent/${encodeURIComponent(identifier)}?limit=100`, { headers: { Authorization: auth("epilot") } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { total: number }).total).toBe(answers.filter((a) => a.status === 201).length);
  });

  it("answers the Copilot surface's refusals in its own format", async () => {
    const report = () =>
      fetch(`${dev.baseUrl}/v2/api/report/user_copilot_analysis_consent_changed`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: auth("copilot") },
        body: JSON.stringify({ consent_value: true, user_id: crypto.randomUUID() }),
      });
    for (const { body } of expectLimited(await burst(report), 200, "org")) {
      expect(JSON.parse(body)).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: expect.stringContaining(`more than ${LIMIT} requests`) });
    }
  });

  it("refuses a client id's authentication failures past the limit", async () => {
    const guess = () => fetch(`${dev.baseUrl}/v1/events`, { headers: { Authorization: auth("links", "guess") } });
    for (const { body } of expectLimited(await burst(guess), 401, "auth-failures")) {
      expect(JSON.parse(body)).toMatchObject({ type: "urn:consent-gateway:problem:rate_limited" });
    }
  });

  it("refuses an address's link pages past the limit with a page in the reader's language", async () => {
    const created = await fetch(`${dev.baseUrl}/v1/consent/double-opt-in`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: auth("links") },
      body: JSON.stringify({ topic: "NEWSLETTER", identifier: `page-${crypto.randomUUID()}@example.com`, source: "signup-form" }),
    });
    expect(created.status).toBe(201);
    const { opt_in_url } = (await created.json()) as { opt_in_url: string };
    const open = () => fetch(opt_in_url.replace(/\?.*$/, ""), { headers: { "Accept-Language": "fr-FR" } });
    for (const { headers, body } of expectLimited(await burst(open), 200, "ip")) {
      expect(headers.get("Content-Type")).toMatch(/^text\/html/);
      expect(body).toMatch(/^<!doctype html><html lang="fr" dir="ltr">/);
      expect(body).toContain("<h1>Trop de demandes</h1>");
    }
  });
});
