import { env, exports } from "cloudflare:workers";
import { app } from "../../src/index";
import { describe, expect, it, vi } from "vitest";
import { basic, call, list, postJson, publish, uniqueEmail } from "../helpers/gateway";

const newOptIn = async () => {
  const response = await postJson("/v1/consent/double-opt-in", { topic: "NEWS", identifier: uniqueEmail("neg") });
  expect(response.status).toBe(201);
  return (await response.json<{ opt_in_url: string }>()).opt_in_url;
};

/** One response of each kind the gateway gives, personal data or not. */
const RESPONSES: [string, () => Promise<Response>, { personal: boolean }][] = [
  ["a 201 publish", () => publish({ type: "OPT_IN", topic: "T", identifier: uniqueEmail() }), { personal: true }],
  ["a 200 history", () => list(uniqueEmail()), { personal: true }],
  ["a 200 feed", () => call("/v1/events?limit=1", { headers: { Authorization: basic("acme") } }), { personal: true }],
  ["a 400 problem echoing an identifier", () => list("x".repeat(400)), { personal: true }],
  ["a 401 problem", () => list(uniqueEmail(), "", basic("acme", "wrong")), { personal: false }],
  ["a 404 problem", () => call("/nowhere"), { personal: false }],
  ["a 405 problem", () => call("/v1/consent/publish", { method: "GET" }), { personal: false }],
  ["a Copilot error", () => postJson("/v2/api/report/user_copilot_analysis_consent_changed", {}), { personal: true }],
  ["an opt-in page", async () => exports.default.fetch(new Request(await newOptIn())), { personal: true }],
  ["an invalid-link page", () => call("/v1/opt-in/not.a.token"), { personal: false }],
  ["the OpenAPI document", () => call("/openapi.json"), { personal: false }],
  ["the receipt key set", () => call("/.well-known/jwks.json"), { personal: false }],
];

describe("headers on every response", () => {
  it.each(RESPONSES)("%s carries Hono's secure headers and an X-Request-Id", async (_, send, { personal }) => {
    const response = await send();
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(response.headers.get("Strict-Transport-Security")).toMatch(/^max-age=/);
    expect(response.headers.get("Content-Security-Policy")).toMatch(/^default-src 'none'; style-src 'nonce-[^']+'; img-src /);
    expect(response.headers.get("X-Request-Id")).toMatch(/^[\w-]+$/);
    if (personal) expect(response.headers.get("Cache-Control")).toBe("no-store");
    if (response.headers.get("Content-Type") === "application/problem+json") {
      expect((await response.json<any>()).request_id).toBe(response.headers.get("X-Request-Id"));
    }
  });

  it("keeps a caller's well-formed X-Request-Id and replaces a hostile one", async () => {
    const kept = await call("/nowhere", { headers: { "X-Request-Id": "trace-42" } });
    expect(kept.headers.get("X-Request-Id")).toBe("trace-42");
    expect(await kept.json()).toMatchObject({ request_id: "trace-42" });
    const replaced = await call("/nowhere", { headers: { "X-Request-Id": "<script>" } });
    expect(replaced.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("lets only link pages load images, from the configured logo origins", async () => {
    expect((await call("/health")).headers.get("Content-Security-Policy")).toContain("img-src 'none';");
    expect((await call("/nowhere")).headers.get("Content-Security-Policy")).toContain("img-src 'none';");
    expect((await call("/v1/opt-in/not.a.token")).headers.get("Content-Security-Policy")).toContain("img-src https://cdn.acme.example;");
  });

  it("lets the public reference page and the receipt key set be cached, and nothing personal", async () => {
    expect((await call("/docs")).headers.get("Cache-Control")).toBe("public, max-age=300");
    expect((await call("/.well-known/jwks.json")).headers.get("Cache-Control")).toBe("public, max-age=300");
  });

  it("answers a wrong method with 405, Allow and a problem", async () => {
    const response = await call("/v1/consent/someone@example.com", { method: "PATCH", headers: { Authorization: basic("acme") } });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD, DELETE");
    expect(await response.json()).toMatchObject({ type: "urn:consent-gateway:problem:method_not_allowed", status: 405 });
  });
});

describe("logs", () => {
  it("are JSON lines with the request id, naming the route pattern and never the identifier", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      // An unreadable setting makes the route fail on our side: a logged 500.
      const identifier = uniqueEmail("logged");
      const response = await app.request(
        `/v1/consent/${encodeURIComponent(identifier)}`,
        { headers: { Authorization: basic("acme"), "X-Request-Id": "log-test-1" } },
        { ...env, API_CLIENTS: "not json" },
      );
      expect(response.status).toBe(500);
      expect(error).toHaveBeenCalledOnce();
      const line = JSON.parse(String(error.mock.calls[0]![0]));
      expect(line).toEqual({ level: "error", message: "configuration error", request_id: "log-test-1", setting: "API_CLIENTS", problem: "API_CLIENTS is not valid JSON" });
      expect(JSON.stringify(error.mock.calls)).not.toContain(identifier);
    } finally {
      error.mockRestore();
    }
  });
});

describe("content negotiation on link pages", () => {
  it.each([
    ["the published epilot SDK and CLI", "application/json, text/plain, */*", "text/html"],
    ["a browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"],
    ["no Accept header", undefined, "text/html"],
    ["anything", "*/*", "text/html"],
    ["a JSON-only client", "application/json", "application/json"],
    ["a client preferring JSON by q", "text/html;q=0.5, application/json", "application/json"],
    ["a client refusing HTML", "text/html;q=0, */*", "application/json"],
    ["a client taking any application type", "application/*", "application/json"],
    ["a problem+json client", "application/problem+json", "application/json"],
    ["a vendor +json client", "application/vnd.foo+json", "application/json"],
    ["a client preferring +json by q", "text/html;q=0.8, application/vnd.foo+json", "application/json"],
    ["a client preferring HTML to +json by q", "text/html, application/problem+json;q=0.8", "text/html"],
    ["a client refusing +json", "application/problem+json;q=0, text/html;q=0.1", "text/html"],
  ])("%s gets %s", async (_, accept, expected) => {
    const url = await newOptIn();
    const response = await exports.default.fetch(new Request(url, { headers: accept === undefined ? {} : { Accept: accept } }));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain(expected);
  });
});
