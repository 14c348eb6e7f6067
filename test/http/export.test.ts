import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { BASE, basic, call, publish, uniqueEmail } from "../helpers/gateway";
import { ledgerOf } from "../helpers/ledger";
import { wrapStubs } from "../helpers/stubs";

const exportOf = (identifier: string, authorization = basic("acme")) =>
  call(`/v1/consent/${encodeURIComponent(identifier)}/export`, { headers: { Authorization: authorization } });

describe("GET /v1/consent/{identifier}/export", () => {
  it("answers the whole history oldest first with proof and chain fields, a verifying receipt per event and the state, as an attachment", async () => {
    const identifier = uniqueEmail("export");
    const sent = [
      { type: "OPT_IN", topic: "NEWS", identifier, source: "form", meta: { notice_version: "v1" } },
      { type: "OPT_IN", topic: "OFFERS", identifier },
      { type: "OPT_OUT", topic: "NEWS", identifier, meta: { reason: "too many" } },
    ];
    for (const body of sent) expect((await publish(body)).status).toBe(201);

    const response = await exportOf(identifier);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    const { key } = ledgerOf("org-acme", identifier);
    expect(response.headers.get("Content-Disposition")).toMatch(new RegExp(`^attachment; filename="consent-export-${key.identifierHash.slice(0, 16)}-\\d{4}-\\d{2}-\\d{2}\\.json"$`));
    // The file's name does not carry the identifier.
    expect(response.headers.get("Content-Disposition")).not.toContain("export-person");
    const document = await response.json<any>();
    expect(document).toMatchObject({ organization_id: "org-acme", identifier, identifier_hash: key.identifierHash });

    expect(document.events.map((e: any) => [e.seq, e.type, e.topic])).toEqual([
      [1, "OPT_IN", "NEWS"],
      [2, "OPT_IN", "OFFERS"],
      [3, "OPT_OUT", "NEWS"],
    ]);
    expect(document.events[0]).toMatchObject({ source: "form", meta: { notice_version: "v1" }, prev_hash: null, proof: { recorded_by: "acme", request_id: expect.any(String) } });
    for (const [index, event] of document.events.entries()) {
      expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
      if (index > 0) expect(event.prev_hash).toBe(document.events[index - 1].hash);
    }

    // Each receipt verifies with the published keys and attests its own event.
    const keys = createLocalJWKSet(await (await call("/.well-known/jwks.json")).json());
    for (const event of document.events) {
      const { payload } = await jwtVerify(event.receipt, keys, { typ: "consent-receipt+jwt" });
      expect(payload).toMatchObject({ seq: event.seq, hash: event.hash, event_type: event.type, purpose: event.topic, pii_principal_id: key.identifierHash });
    }

    // The state is what getConsentState answers.
    const state = await (await call(`/v1/consent/${encodeURIComponent(identifier)}/state`, { headers: { Authorization: basic("acme") } })).json<any>();
    expect(document.state.topics).toEqual(state.topics);
    expect(document.state.topics.map((t: any) => [t.topic, t.status]).sort()).toEqual([
      ["NEWS", "withdrawn"],
      ["OFFERS", "granted"],
    ]);
    expect(document.exported_at).toBe(document.state.at);
  });

  it("answers more events than a list page holds, from one chain RPC and no paging", async () => {
    const identifier = uniqueEmail("export-long");
    for (let i = 0; i < 105; i++) expect((await publish({ type: i % 2 ? "OPT_OUT" : "OPT_IN", topic: "NEWS", identifier })).status).toBe(201);
    const calls: string[] = [];
    const ledgers = wrapStubs(env.IDENTIFIER_LEDGER, {
      chain: (ledger, ...args) => (calls.push("chain"), ledger.chain(...args)),
      list: (ledger, ...args) => (calls.push("list"), ledger.list(...args)),
    });
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request(`${BASE}/v1/consent/${encodeURIComponent(identifier)}/export`, { headers: { Authorization: basic("acme") } }),
      { ...env, IDENTIFIER_LEDGER: ledgers },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    const { events } = await response.json<any>();
    expect(events.map((e: any) => e.seq)).toEqual(Array.from({ length: 105 }, (_, i) => i + 1));
    expect(calls).toEqual(["chain"]);
  });

  it("answers an identifier never seen with an empty history, and writes nothing", async () => {
    const identifier = uniqueEmail("export-never");
    const response = await exportOf(identifier);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ identifier, events: [], state: { topics: [] } });
    expect(await (await call(`/v1/consent/${encodeURIComponent(identifier)}`, { headers: { Authorization: basic("acme") } })).json()).toMatchObject({ total: 0 });
  });

  it("needs consent:read, and shows nothing of another organization", async () => {
    const identifier = uniqueEmail("export-isolated");
    expect((await publish({ type: "OPT_IN", topic: "NEWS", identifier })).status).toBe(201);
    expect((await exportOf(identifier, "")).status).toBe(401);
    expect((await exportOf(identifier, basic("acme-writer"))).status).toBe(403);
    expect((await exportOf(identifier, basic("acme-reader"))).status).toBe(200);
    const foreign = await (await exportOf(identifier, basic("globex"))).json<any>();
    expect(foreign).toMatchObject({ organization_id: "org-globex", events: [], state: { topics: [] } });
  });

  it("refuses a malformed identifier with a 400 naming it", async () => {
    const response = await exportOf(" ");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ location: "path", path: "identifier" }] });
  });
});
