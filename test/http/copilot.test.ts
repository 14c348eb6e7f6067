import { describe, expect, it } from "vitest";
import { basic, call, hs256, list, postJson } from "../helpers/gateway";

const PATH = "/v2/api/report/user_copilot_analysis_consent_changed";
const report = (body: unknown, authorization?: string) => postJson(PATH, body, authorization);
const raw = (body: string, headers: Record<string, string> = {}) =>
  call(PATH, { method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("acme"), ...headers }, body });

describe("POST /v2/api/report/user_copilot_analysis_consent_changed", () => {
  it("answers the seed example with 200 {} and records it for the epilot API", async () => {
    const userId = crypto.randomUUID();
    const response = await report({ consent_value: true, user_id: userId });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});

    expect((await report({ consent_value: false, user_id: userId })).status).toBe(200);
    const history = await (await list(userId)).json<any>();
    expect(history.total).toBe(2);
    expect(history.events).toEqual([
      expect.objectContaining({ type: "OPT_OUT", topic: "COPILOT_ANALYSIS", source: "copilot", identifier: userId, organization_id: "org-acme" }),
      expect.objectContaining({ type: "OPT_IN", topic: "COPILOT_ANALYSIS", source: "copilot", identifier: userId }),
    ]);
    expect(history.events[0].meta).toBeUndefined();
  });

  it("accepts a Bearer JWT too", async () => {
    const response = await report({ consent_value: true, user_id: crypto.randomUUID() }, await hs256({ organization_id: "org-acme" }));
    expect(response.status).toBe(200);
  });

  it.each([
    [{ user_id: "u1" }, "1 validation error: [ may not be null --> consent_value ]"],
    [{ consent_value: null, user_id: "u1" }, "1 validation error: [ may not be null --> consent_value ]"],
    [{ consent_value: true }, "1 validation error: [ may not be null --> user_id ]"],
    [{}, "2 validation errors: [ may not be null --> consent_value, may not be null --> user_id ]"],
    [{ consent_value: "true", user_id: "u1" }, "1 validation error: [ must be a boolean --> consent_value ]"],
    [{ consent_value: 1, user_id: 42 }, "2 validation errors: [ must be a boolean --> consent_value, must be a string --> user_id ]"],
    [{ consent_value: true, user_id: "   " }, "1 validation error: [ must not be empty --> user_id ]"],
    [{ consent_value: true, user_id: "x".repeat(321) }, "1 validation error: [ must be at most 320 characters --> user_id ]"],
    [[], "1 validation error: [ must be a object --> body ]"],
  ])("answers %j with Copilot's validation error", async (body, message) => {
    const response = await report(body);
    expect(response.status).toBe(400);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: message });
  });

  it("answers malformed JSON as a validation error", async () => {
    const response = await raw('{"consent_value": tru');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      reason: "COMMON.REQUEST_VALIDATION",
      error_message: "1 validation error: [ is not valid JSON --> body ]",
    });
  });

  it("answers a non-JSON body in Copilot's shape", async () => {
    const response = await raw("consent_value=true", { "Content-Type": "text/plain" });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({
      reason: "COMMON.REQUEST_VALIDATION",
      error_message: "The request body must be JSON (Content-Type: application/json).",
    });
  });

  it.each([
    ["no credentials", undefined, "Credentials are required."],
    ["a wrong secret", basic("acme", "nope"), "The client id or secret is wrong."],
    ["an unknown client", basic("nobody"), "The client id or secret is wrong."],
    ["another scheme", "Digest abc", "Use HTTP Basic or Bearer authentication."],
  ])("answers %s with 401 AUTH.UNAUTHORIZED", async (_, authorization, message) => {
    const response = await call(PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(authorization ? { Authorization: authorization } : {}) },
      body: JSON.stringify({ consent_value: true, user_id: "u1" }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toContain("Basic");
    expect(await response.json()).toEqual({ reason: "AUTH.UNAUTHORIZED", error_message: message });
  });

  it("answers an expired token with 401 AUTH.UNAUTHORIZED", async () => {
    const token = await hs256({ organization_id: "org-acme" }, { expiresIn: "-1m" });
    const response = await report({ consent_value: true, user_id: "u1" }, token);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ reason: "AUTH.UNAUTHORIZED", error_message: "The bearer token has expired." });
  });

  it("answers a client without consent:write with 403 AUTH.UNAUTHORIZED", async () => {
    const response = await report({ consent_value: true, user_id: "u1" }, basic("acme-reader"));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      reason: "AUTH.UNAUTHORIZED",
      error_message: 'This operation needs the "consent:write" scope.',
    });
  });
});
