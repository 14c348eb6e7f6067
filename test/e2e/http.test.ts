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
