import { describe, expect, it } from "vitest";
import { SEED_EVENT, SEED_EVENT_REQUEST } from "../../src/consent-event";
import { basic, call, list, publish, uniqueEmail } from "../helpers/gateway";

describe("POST /v1/consent/publish", () => {
  it("answers the seed example with 201 and the stored event", async () => {
    const response = await publish(SEED_EVENT_REQUEST);
    expect(response.status).toBe(201);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    const event = await response.json<Record<string, unknown>>();
    expect(event).toEqual({
      ...SEED_EVENT,
      organization_id: "org-acme",
      created_at: event.created_at,
      // Beyond the seed: its place and link in the chain, and how it was recorded.
      seq: 1,
      prev_hash: null,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      proof: { recorded_by: "acme", request_id: expect.any(String) },
    });
    expect(event.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(event.created_at as string) - Date.now())).toBeLessThan(60_000);
  });

  it("leaves out source and meta when the request has none", async () => {
    const identifier = uniqueEmail();
    const response = await publish({ type: "OPT_OUT", topic: "SMS", identifier });
    expect(response.status).toBe(201);
    const event = await response.json<object>();
    expect(Object.keys(event).sort()).toEqual(["created_at", "hash", "identifier", "organization_id", "prev_hash", "proof", "seq", "topic", "type"]);
  });

  it("takes the organization from the credentials, never from the body", async () => {
    const identifier = uniqueEmail();
    const response = await publish({ type: "OPT_IN", topic: "T", identifier, organization_id: "org-globex" });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ organization_id: "org-acme" });
    const globex = await list(identifier, "", basic("globex"));
    expect(await globex.json()).toEqual({ events: [], total: 0 });
  });

  it.each([["DOUBLE_OPT_IN"], ["DOUBLE_OPT_IN_REQUESTED"], ["opt_in"], [""]])("refuses request type %j", async (type) => {
    const response = await publish({ type, topic: "T", identifier: uniqueEmail() });
    expect(response.status).toBe(400);
    const problem = await response.json<any>();
    expect(problem.errors).toEqual([expect.objectContaining({ location: "body", path: "type", code: "invalid_value" })]);
  });

  it("names every failing field in a problem+json 400", async () => {
    const response = await publish({ type: "MAYBE", topic: 7, meta: [] });
    expect(response.status).toBe(400);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    const problem = await response.json<any>();
    expect(problem).toMatchObject({
      type: "urn:consent-gateway:problem:validation",
      title: "Invalid request",
      status: 400,
      detail: "The request body is invalid.",
    });
    const byPath = Object.fromEntries(problem.errors.map((e: any) => [e.path, e]));
    expect(Object.keys(byPath).sort()).toEqual(["identifier", "meta", "topic", "type"]);
    expect(byPath.identifier).toMatchObject({ code: "required", message: "is required" });
    expect(byPath.topic).toMatchObject({ code: "invalid_type", message: "must be a string" });
    expect(byPath.meta).toMatchObject({ code: "invalid_type", message: "must be an object" });
  });

  it.each([
    ["an empty identifier", { identifier: "   " }, "identifier"],
    ["an identifier over 320 characters", { identifier: `${"a".repeat(310)}@example.com` }, "identifier"],
    ["a topic over 200 characters", { topic: "T".repeat(201) }, "topic"],
    ["an empty topic", { topic: "" }, "topic"],
    ["a source over 200 characters", { source: "s".repeat(201) }, "source"],
    ["meta that is not an object", { meta: "yes" }, "meta"],
    ["meta that is null", { meta: null }, "meta"],
    ["meta over 32 KiB", { meta: { blob: "x".repeat(32 * 1024) } }, "meta"],
    ["meta nested 11 levels deep", { meta: nest(11) }, "meta"],
  ])("refuses %s", async (_, override, path) => {
    const identifier = uniqueEmail();
    const response = await publish({ type: "OPT_IN", topic: "T", identifier, ...override });
    expect(response.status).toBe(400);
    const problem = await response.json<any>();
    expect(problem.errors.map((e: any) => e.path)).toEqual([path]);
    // Nothing was written.
    expect(await (await list(identifier)).json()).toEqual({ events: [], total: 0 });
  });

  it("accepts meta exactly 10 levels deep and an identifier of exactly 320 characters", async () => {
    const identifier = `${"a".repeat(308)}@example.com`;
    expect(identifier).toHaveLength(320);
    const response = await publish({ type: "OPT_IN", topic: "T", identifier, meta: nest(10) });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ meta: nest(10) });
  });

  it("answers malformed JSON with a 400 naming the body", async () => {
    const response = await call("/v1/consent/publish", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: basic("acme") },
      body: '{"type": "OPT_IN",',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      errors: [{ location: "body", path: "", code: "malformed_json", message: "is not valid JSON" }],
    });
  });

  it("answers a non-JSON body with 415", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", null]) {
      const response = await call("/v1/consent/publish", {
        method: "POST",
        headers: { Authorization: basic("acme"), ...(contentType ? { "Content-Type": contentType } : {}) },
        body: "type=OPT_IN",
      });
      expect(response.status, String(contentType)).toBe(415);
      expect(await response.json()).toMatchObject({ type: "urn:consent-gateway:problem:unsupported_media_type", status: 415 });
    }
  });

  it("answers a body over 1 MiB with 413 and writes nothing", async () => {
    const identifier = uniqueEmail();
    const response = await publish({ type: "OPT_IN", topic: "T", identifier, meta: { blob: "x".repeat(1024 * 1024) } });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ type: "urn:consent-gateway:problem:payload_too_large", status: 413 });
    expect(await (await list(identifier)).json()).toEqual({ events: [], total: 0 });
  });

  it("normalises identifiers: trimmed, e-mail lower-cased, phone numbers compacted", async () => {
    const email = uniqueEmail("MiXeD").toUpperCase();
    const first = await publish({ type: "OPT_IN", topic: "T", identifier: `  ${email}  ` });
    expect(await first.json()).toMatchObject({ identifier: email.toLowerCase() });

    const digits = String(Date.now()).slice(-7) + String(Math.floor(Math.random() * 1000)).padStart(3, "0");
    const phone = `+49 (${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
    const second = await publish({ type: "OPT_IN", topic: "T", identifier: phone });
    expect(await second.json()).toMatchObject({ identifier: `+49${digits}` });
    const third = await publish({ type: "OPT_OUT", topic: "T", identifier: `+49${digits}` });
    expect(third.status).toBe(201);
    const history = await (await list(`+49 ${digits}`)).json<any>();
    expect(history.total).toBe(2);
    expect(history.events.map((e: any) => e.type)).toEqual(["OPT_OUT", "OPT_IN"]);
  });
});

describe("unknown routes and methods", () => {
  it("answers an unknown route with a 404 problem", async () => {
    const response = await call("/v1/nothing-here");
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ type: "urn:consent-gateway:problem:not_found", status: 404 });
  });

  it("answers a wrong method with a 405 problem and Allow", async () => {
    const copilot = "/v2/api/report/user_copilot_analysis_consent_changed";
    const response = await call(copilot, { method: "GET", headers: { Authorization: basic("acme") } });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
    // The Copilot path answers in Copilot's own error format, whatever went wrong.
    expect(await response.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: "GET is not supported here; use POST." });

    const patch = await call("/v1/consent/someone@example.com", { method: "PATCH" });
    expect(patch.status).toBe(405);
    expect(patch.headers.get("Allow")).toBe("GET, HEAD, DELETE");

    // `publish` is also an identifier, so its path answers GET (list) as well as POST.
    const put = await call("/v1/consent/publish", { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("Allow")).toBe("POST, GET, HEAD, DELETE");
  });
});

function nest(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { child: value };
  return value;
}

describe("the notice in meta", () => {
  it.each([
    [{ notice_text_sha256: "abc" }, "meta.notice_text_sha256", "invalid_format"],
    [{ notice_text_sha256: 7 }, "meta.notice_text_sha256", "invalid_format"],
    [{ notice_version: "" }, "meta.notice_version", "invalid_type"],
    [{ notice_version: 2 }, "meta.notice_version", "invalid_type"],
  ])("refuses meta %j with a 400 naming %s", async (meta, path, code) => {
    const identifier = uniqueEmail();
    const response = await publish({ type: "OPT_IN", topic: "T", identifier, meta });
    expect(response.status).toBe(400);
    expect((await response.json<any>()).errors).toEqual([expect.objectContaining({ path, code })]);
    expect(await (await list(identifier)).json()).toEqual({ events: [], total: 0 });
  });

  it("keeps a valid notice as sent", async () => {
    const meta = { notice_version: "2026-11", notice_text_sha256: "a".repeat(64) };
    const response = await publish({ type: "OPT_IN", topic: "T", identifier: uniqueEmail(), meta });
    expect(response.status).toBe(201);
    expect((await response.json<any>()).meta).toEqual(meta);
  });
});
