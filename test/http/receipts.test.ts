import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { basic, call, publish, uniqueEmail } from "../helpers/gateway";
import { ledgerOf } from "../helpers/ledger";

const receipt = (identifier: string, seq: number | string, authorization = basic("acme")) =>
  call(`/v1/consent/${encodeURIComponent(identifier)}/receipts/${seq}`, { headers: { Authorization: authorization } });

describe("GET /v1/consent/{identifier}/receipts/{seq}", () => {
  it("answers a receipt for the event that verifies with nothing but jose and the served key set", async () => {
    const identifier = uniqueEmail("receipt");
    expect((await publish({ type: "OPT_IN", topic: "NEWS", identifier, source: "form" })).status).toBe(201);
    const published = await (await publish({ type: "OPT_OUT", topic: "NEWS", identifier, meta: { notice_version: "v7", language: "de" } })).json<any>();

    const response = await receipt(identifier, 2);
    expect(response.status).toBe(200);
    const { receipt: jws } = await response.json<{ receipt: string }>();
    const keys = createLocalJWKSet(await (await call("/.well-known/jwks.json")).json());
    const { payload, protectedHeader } = await jwtVerify(jws, keys, { typ: "consent-receipt+jwt" });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      pii_principal_id: ledgerOf("org-acme", identifier).key.identifierHash,
      pii_controllers: ["org-acme"],
      purpose: "NEWS",
      event_type: "OPT_OUT",
      event_state: "withdrawn",
      event_time: published.created_at,
      privacy_notice: { version: "v7" },
      language: "de",
      seq: 2,
      hash: published.hash,
    });
    // The identifier itself is nowhere in it.
    expect(JSON.stringify(payload)).not.toContain(identifier);
  });

  it("answers 404 for a seq the history does not hold, and for an identifier never seen", async () => {
    const identifier = uniqueEmail("receipt-missing");
    expect((await publish({ type: "OPT_IN", topic: "NEWS", identifier })).status).toBe(201);
    for (const response of [await receipt(identifier, 2), await receipt(uniqueEmail("never"), 1)]) {
      expect(response.status).toBe(404);
      expect(response.headers.get("Content-Type")).toContain("application/problem+json");
    }
    // Another organization holds no such history.
    expect((await receipt(identifier, 1, basic("globex"))).status).toBe(404);
  });

  it.each([["0"], ["-1"], ["1.5"], ["x"]])("refuses seq %j with a 400", async (seq) => {
    expect((await receipt(uniqueEmail(), seq)).status).toBe(400);
  });
});

describe("Prefer: return=receipt", () => {
  it("publish and double opt-in answer the recorded event's receipt beside upstream's answer, and say so", async () => {
    const identifier = uniqueEmail("prefer");
    const keys = createLocalJWKSet(await (await call("/.well-known/jwks.json")).json());
    const published = await call("/v1/consent/publish", {
      method: "POST",
      headers: { Authorization: basic("acme"), "Content-Type": "application/json", Prefer: "handling=strict, return=receipt" },
      body: JSON.stringify({ type: "OPT_IN", topic: "NEWS", identifier }),
    });
    expect(published.status).toBe(201);
    expect(published.headers.get("Preference-Applied")).toBe("return=receipt");
    const event = await published.json<any>();
    expect((await jwtVerify(event.receipt, keys)).payload).toMatchObject({ seq: 1, hash: event.hash, event_type: "OPT_IN" });

    const requested = await call("/v1/consent/double-opt-in", {
      method: "POST",
      headers: { Authorization: basic("acme"), "Content-Type": "application/json", Prefer: "return=receipt" },
      body: JSON.stringify({ topic: "NEWS", identifier }),
    });
    const links = await requested.json<any>();
    expect((await jwtVerify(links.receipt, keys)).payload).toMatchObject({ seq: 2, event_state: "requested" });
  });

  it("the Copilot endpoint answers {receipt} instead of {} when asked", async () => {
    const user = crypto.randomUUID();
    const response = await call("/v2/api/report/user_copilot_analysis_consent_changed", {
      method: "POST",
      headers: { Authorization: basic("acme"), "Content-Type": "application/json", Prefer: "return=receipt" },
      body: JSON.stringify({ consent_value: true, user_id: user }),
    });
    expect(response.status).toBe(200);
    const { receipt } = await response.json<{ receipt: string }>();
    const keys = createLocalJWKSet(await (await call("/.well-known/jwks.json")).json());
    expect((await jwtVerify(receipt, keys)).payload).toMatchObject({ seq: 1, purpose: "COPILOT_ANALYSIS", event_state: "given", collection_method: "copilot" });
  });

  it("without it, the answer is upstream's, with no receipt", async () => {
    const response = await publish({ type: "OPT_IN", topic: "NEWS", identifier: uniqueEmail("no-prefer") });
    expect(response.headers.get("Preference-Applied")).toBeNull();
    expect(await response.json()).not.toHaveProperty("receipt");
  });
});
