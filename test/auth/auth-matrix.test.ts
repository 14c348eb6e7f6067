import { env } from "cloudflare:workers";
import { base64url, CompactSign } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { basic, call, hs256, list, uniqueEmail } from "../helpers/gateway";
import { fedRows } from "../helpers/ledger";

/** One person every attempt tries to write for: nothing may ever be recorded for them. */
const identifier = uniqueEmail("matrix");
const now = () => Math.floor(Date.now() / 1000);

/** A JWT over a payload written as raw JSON text (for values JSON.stringify cannot write, like 1e400). */
async function rawHs256(payload: string, alg = "HS256") {
  const jws = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg }).sign(new TextEncoder().encode(env.JWT_SECRET));
  return `Bearer ${jws}`;
}

const part = (value: object) => base64url.encode(JSON.stringify(value));

/** Every way a credential can be wrong, each refused with 401. */
const REFUSED: [string, () => Promise<string | undefined>][] = [
  ["no Authorization header", async () => undefined],
  ["another scheme", async () => "Digest username=acme"],
  ["Basic that is not base64", async () => "Basic %%%"],
  ["Basic without a colon", async () => `Basic ${btoa("acme")}`],
  ["Basic of an unknown client", async () => basic("nobody")],
  ["Basic with a wrong secret", async () => basic("acme", "wrong")],
  ["Bearer that is not a JWT", async () => "Bearer not-a-jwt"],
  ["Bearer signed with another key", () => hs256({ organization_id: "org-acme" }, { secret: "another-secret-another-secret-another" })],
  ["Bearer whose payload was altered", async () => {
    const [header, , signature] = (await hs256({ organization_id: "org-globex" })).slice(7).split(".");
    return `Bearer ${header}.${part({ organization_id: "org-acme", exp: now() + 60 })}.${signature}`;
  }],
  ["Bearer that has expired", () => hs256({ organization_id: "org-acme" }, { expiresIn: "-1s" })],
  ["Bearer with alg none", async () => `Bearer ${part({ alg: "none" })}.${part({ organization_id: "org-acme", exp: now() + 60 })}.`],
  ["Bearer with an algorithm not configured", () => rawHs256(JSON.stringify({ organization_id: "org-acme", exp: now() + 60 }), "HS512")],
  ["Bearer without an organization", () => hs256({ sub: "someone" })],
  ["Bearer without exp", () => rawHs256(JSON.stringify({ organization_id: "org-acme" }))],
  ["Bearer with exp 1e400 (never expiring)", () => rawHs256(`{"organization_id":"org-acme","exp":1e400}`)],
  ["Bearer with a text exp", () => rawHs256(JSON.stringify({ organization_id: "org-acme", exp: "tomorrow" }))],
  ["Bearer issued an hour in the future", () => rawHs256(JSON.stringify({ organization_id: "org-acme", iat: now() + 3600, exp: now() + 7200 }))],
  ["Bearer living 48 hours", () => rawHs256(JSON.stringify({ organization_id: "org-acme", iat: now(), exp: now() + 48 * 3600 }))],
  ["Bearer without iat expiring in 48 hours", () => rawHs256(JSON.stringify({ organization_id: "org-acme", exp: now() + 48 * 3600 }))],
];

interface Route {
  name: string;
  scope: "consent:read" | "consent:write";
  copilot?: boolean;
  send(authorization?: string): Promise<Response>;
}

const withAuth = (authorization?: string): Record<string, string> => (authorization === undefined ? {} : { Authorization: authorization });
const post = (path: string, body: unknown) => (authorization?: string) =>
  call(path, { method: "POST", headers: { "Content-Type": "application/json", ...withAuth(authorization) }, body: JSON.stringify(body) });
const get = (path: string) => (authorization?: string) => call(path, { headers: withAuth(authorization) });

const ROUTES: Route[] = [
  { name: "POST /v1/consent/publish", scope: "consent:write", send: post("/v1/consent/publish", { type: "OPT_IN", topic: "T", identifier }) },
  { name: "POST /v1/consent/double-opt-in", scope: "consent:write", send: post("/v1/consent/double-opt-in", { topic: "T", identifier }) },
  { name: "GET /v1/consent/{identifier}", scope: "consent:read", send: get(`/v1/consent/${encodeURIComponent(identifier)}`) },
  { name: "GET /v1/events", scope: "consent:read", send: get("/v1/events") },
  {
    name: "POST copilot consent",
    scope: "consent:write",
    copilot: true,
    send: post("/v2/api/report/user_copilot_analysis_consent_changed", { consent_value: true, user_id: identifier }),
  },
  {
    name: "POST copilot collect",
    scope: "consent:write",
    copilot: true,
    send: post("/v2/api/collect", {
      events: [{ type: "user_created", event_id: crypto.randomUUID(), timestamp: Date.now(), payload: { user_id: identifier, copilot_analysis_consent: true } }],
    }),
  },
];

async function expectRefused(route: Route, response: Response, status: 401 | 403) {
  expect(response.status, route.name).toBe(status);
  const body = await response.json<any>();
  if (route.copilot) {
    expect(body, route.name).toEqual({ reason: "AUTH.UNAUTHORIZED", error_message: expect.any(String) });
  } else {
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(body, route.name).toMatchObject({ status, type: `urn:consent-gateway:problem:${status === 401 ? "unauthorized" : "forbidden"}` });
  }
  if (status === 401) expect(response.headers.get("WWW-Authenticate"), route.name).toContain('Basic realm="consent-gateway"');
}

describe("every protected route refuses every kind of bad credential", () => {
  it.each(REFUSED)("%s: 401 on every route", async (_, credential) => {
    const authorization = await credential();
    for (const route of ROUTES) await expectRefused(route, await route.send(authorization), 401);
  });

  it("a credential without the route's scope: 403 on every route", async () => {
    for (const route of ROUTES) {
      const other = route.scope === "consent:read" ? "acme-writer" : "acme-reader";
      await expectRefused(route, await route.send(basic(other)), 403);
      const token = await hs256({ organization_id: "org-acme", scope: route.scope === "consent:read" ? "consent:write" : "consent:read" });
      await expectRefused(route, await route.send(token), 403);
    }
  });

  it("a token within the lifetime bound, issued within the clock skew, is accepted", async () => {
    const fine = await rawHs256(JSON.stringify({ organization_id: "org-acme", iat: now() + 30, exp: now() + 23 * 3600 }));
    expect((await list(uniqueEmail(), "", fine)).status).toBe(200);
  });

  afterAll(async () => {
    // Nothing was written for the person every refused attempt named.
    expect((await (await list(identifier)).json<any>()).total).toBe(0);
    expect(await fedRows("org-acme", identifier)).toEqual([]);
  });
});
