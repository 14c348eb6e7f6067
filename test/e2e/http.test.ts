import { expect, inject, it } from "vitest";
import { SEED_EVENT_REQUEST } from "../../src/consent-event";
import { E2E_SETTINGS, e2eBasic } from "./settings";

const base = inject("gatewayUrl");

it("publishes and lists over real HTTP on wrangler dev", async () => {
  const identifier = `e2e-${crypto.randomUUID()}@example.com`;
  const published = await fetch(`${base}/v1/consent/publish`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: e2eBasic },
    body: JSON.stringify({ ...SEED_EVENT_REQUEST, identifier }),
  });
  expect(published.status).toBe(201);
  expect(await published.json()).toMatchObject({ identifier, organization_id: "org-e2e" });

  const copilot = await fetch(`${base}/v2/api/report/user_copilot_analysis_consent_changed`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: e2eBasic },
    body: JSON.stringify({ consent_value: false, user_id: identifier }),
  });
  expect(copilot.status).toBe(200);

  const listed = await fetch(`${base}/v1/consent/${encodeURIComponent(identifier)}?limit=10`, { headers: { Authorization: e2eBasic } });
  expect(listed.status).toBe(200);
  const body = (await listed.json()) as { events: { type: string; topic: string }[]; total: number };
  expect(body.total).toBe(2);
  expect(body.events.map((e) => [e.type, e.topic])).toEqual([
    ["OPT_OUT", "COPILOT_ANALYSIS"],
    ["OPT_IN", "EMAIL_MARKETING"],
  ]);
});

it("refuses a request without credentials with a problem and a challenge", async () => {
  const response = await fetch(`${base}/v1/consent/someone@example.com`);
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toContain("Basic");
  expect(response.headers.get("content-type")).toBe("application/problem+json");
});

it("serves the receipt key set: public keys only, cacheable", async () => {
  const response = await fetch(`${base}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("public, max-age=300");
  const [configured] = JSON.parse(E2E_SETTINGS.RECEIPT_SIGNING_KEYS!) as { kid: string; x: string }[];
  expect(await response.json()).toEqual({ keys: [{ kty: "OKP", crv: "Ed25519", x: configured!.x, kid: configured!.kid, alg: "EdDSA", use: "sig" }] });
});

it("erases a history over real HTTP as the README shows, and the next event starts a new chain that reaches the feed", async () => {
  const identifier = `forget-${crypto.randomUUID()}@example.com`;
  const topic = `FORGET-${crypto.randomUUID()}`;
  const demo = `Basic ${Buffer.from("demo:demo-secret").toString("base64")}`;
  const dpo = `Basic ${Buffer.from("demo-dpo:demo-dpo-secret").toString("base64")}`;
  const publish = () =>
    fetch(`${base}/v1/consent/publish`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: demo },
      body: JSON.stringify({ type: "OPT_IN", topic, identifier, source: "signup-form" }),
    });
  expect((await publish()).status).toBe(201);
  const erase = (authorization: string) =>
    fetch(`${base}/v1/consent/${identifier}`, { method: "DELETE", headers: { "Content-Type": "application/json", Authorization: authorization }, body: JSON.stringify({ reason: "GDPR Art. 17 request, ticket 4711" }) });
  expect((await erase(demo)).status).toBe(403);
  const erased = await erase(dpo);
  expect(erased.status).toBe(200);
  expect(await erased.json()).toMatchObject({ erased_by: "demo-dpo", stub: { events: [{ seq: 1, type: "OPT_IN", topic }] } });
  const state = await (await fetch(`${base}/v1/consent/${identifier}/state`, { headers: { Authorization: demo } })).json();
  expect(state).toMatchObject({ topics: [], erased: true });

  const again = (await (await publish()).json()) as { seq: number; proof: { follows_erasure?: boolean } };
  expect(again).toMatchObject({ seq: 1, proof: { follows_erasure: true } });
  await expect
    .poll(
      async () => {
        const feed = (await (await fetch(`${base}/v1/events?topic=${topic}&limit=500`, { headers: { Authorization: demo } })).json()) as { events: { identifier: string; seq: number }[] };
        return feed.events.filter((e) => e.identifier === identifier).map((e) => e.seq);
      },
      { timeout: 20_000, interval: 250 },
    )
    .toEqual([1]);
});
