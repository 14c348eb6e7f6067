import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { openSecret } from "../../src/storage/webhooks/secrets";
import { basic, call, hs256, postJson } from "../helpers/gateway";

const HOOKS = basic("hooks");
const OTHER = basic("hooks-other");

const create = (body: unknown, authorization = HOOKS) => postJson("/v1/webhooks", body, authorization);
const get = (path: string, authorization = HOOKS) => call(path, { headers: { Authorization: authorization } });
const send = (method: string, path: string, authorization = HOOKS) => call(path, { method, headers: { Authorization: authorization } });

async function created(body: unknown = { url: "https://crm.example.com/hooks" }) {
  const response = await create(body);
  expect(response.status).toBe(201);
  return response.json<any>();
}

/** The single field error of a 400 problem. */
async function refusal(response: Response) {
  expect(response.status).toBe(400);
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = await response.json<any>();
  expect(problem.type).toBe("urn:consent-gateway:problem:validation");
  expect(problem.errors).toHaveLength(1);
  return problem.errors[0];
}

describe("managing webhook endpoints", () => {
  it("creates an endpoint and answers its secret once: never in the list, sealed in D1", async () => {
    const endpoint = await created({ url: "https://crm.example.com/hooks", topics: ["NEWSLETTER"], types: ["OPT_IN", "consent.erased"], description: "CRM" });
    expect(endpoint).toEqual({
      id: expect.stringMatching(/^wh_[0-9a-f]{32}$/),
      url: "https://crm.example.com/hooks",
      topics: ["NEWSLETTER"],
      types: ["OPT_IN", "consent.erased"],
      description: "CRM",
      created_at: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const list = await (await get("/v1/webhooks")).json<any>();
    const { secret, ...listed } = endpoint;
    expect(list.webhooks).toContainEqual(listed);
    expect(JSON.stringify(list)).not.toContain(secret.slice(6));

    const row = await env.DB.prepare("SELECT secret FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<{ secret: string }>();
    expect(row!.secret).not.toContain(secret.slice(6));
    expect(await openSecret(env, endpoint.id, row!.secret)).toBe(secret);
    // Bound to its row: the ciphertext does not open as another endpoint's.
    await expect(openSecret(env, "wh_00000000000000000000000000000000", row!.secret)).rejects.toThrow();
  });

  it("rotates the secret: a new one, the old one signing until 24 hours from now", async () => {
    const endpoint = await created();
    const response = await send("POST", `/v1/webhooks/${endpoint.id}/rotate-secret`);
    expect(response.status).toBe(200);
    const rotated = await response.json<any>();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.previous_secret_expires_at) - Date.now()).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(Date.parse(rotated.previous_secret_expires_at) - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    const row = await env.DB.prepare("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<{ secret: string; previous_secret: string }>();
    expect(await openSecret(env, endpoint.id, row!.secret)).toBe(rotated.secret);
    expect(await openSecret(env, endpoint.id, row!.previous_secret)).toBe(endpoint.secret);
  });

  it("deletes an endpoint (204), then it is gone (404 on every operation)", async () => {
    const endpoint = await created();
    expect((await send("DELETE", `/v1/webhooks/${endpoint.id}`)).status).toBe(204);
    expect((await (await get("/v1/webhooks")).json<any>()).webhooks.map((w: any) => w.id)).not.toContain(endpoint.id);
    for (const [method, path] of [
      ["DELETE", `/v1/webhooks/${endpoint.id}`],
      ["POST", `/v1/webhooks/${endpoint.id}/rotate-secret`],
      ["GET", `/v1/webhooks/${endpoint.id}/deliveries`],
    ] as const) {
      const response = await send(method, path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect((await response.json<any>()).type).toBe("urn:consent-gateway:problem:not_found");
    }
  });

  it("lists an endpoint's delivery attempts (none yet)", async () => {
    const endpoint = await created();
    const response = await get(`/v1/webhooks/${endpoint.id}/deliveries?limit=10`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ deliveries: [] });
    expect((await refusal(await get(`/v1/webhooks/${endpoint.id}/deliveries?limit=0`))).path).toBe("limit");
  });
});

describe("organizations never see each other's endpoints", () => {
  it("another organization cannot list, delete, rotate or read the deliveries of an endpoint", async () => {
    const endpoint = await created();
    expect((await (await get("/v1/webhooks", OTHER)).json<any>()).webhooks.map((w: any) => w.id)).not.toContain(endpoint.id);
    expect((await send("DELETE", `/v1/webhooks/${endpoint.id}`, OTHER)).status).toBe(404);
    expect((await send("POST", `/v1/webhooks/${endpoint.id}/rotate-secret`, OTHER)).status).toBe(404);
    expect((await get(`/v1/webhooks/${endpoint.id}/deliveries`, OTHER)).status).toBe(404);
    // Still there, with the secret it had.
    const row = await env.DB.prepare("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<{ secret: string; previous_secret: null }>();
    expect(row!.previous_secret).toBeNull();
    expect(await openSecret(env, endpoint.id, row!.secret)).toBe(endpoint.secret);
  });
});

describe("webhooks:manage is needed and never implied", () => {
  it("a credential without it (Basic with default scopes, a JWT without it): 403; none: 401", async () => {
    const token = await hs256({ organization_id: "org-hooks", scope: "consent:read consent:write consent:erase" });
    for (const authorization of [basic("acme"), token]) {
      for (const response of [await create({ url: "https://crm.example.com/hooks" }, authorization), await get("/v1/webhooks", authorization)]) {
        expect(response.status).toBe(403);
        expect((await response.json<any>()).type).toBe("urn:consent-gateway:problem:forbidden");
      }
    }
    expect((await call("/v1/webhooks")).status).toBe(401);
    const granted = await hs256({ organization_id: "org-hooks", scope: "webhooks:manage" });
    expect((await get("/v1/webhooks", granted)).status).toBe(200);
  });
});

describe("endpoint URLs", () => {
  const REFUSED: [string, string][] = [
    ["http://crm.example.com/hooks", "not_https"],
    ["ftp://crm.example.com/", "not_https"],
    ["not a url", "invalid_url"],
    ["https://user:pass@crm.example.com/", "credentials_in_url"],
    ["https://127.0.0.1/", "private_address"],
    ["https://127.8.9.10:8443/", "private_address"],
    ["https://2130706433/", "private_address"], // 127.0.0.1 as one number
    ["https://0x7f.1/", "private_address"],
    ["https://10.1.2.3/", "private_address"],
    ["https://172.16.0.1/", "private_address"],
    ["https://172.31.255.255/", "private_address"],
    ["https://192.168.1.1/", "private_address"],
    ["https://169.254.169.254/latest/meta-data/", "private_address"],
    ["https://100.64.0.1/", "private_address"],
    ["https://0.0.0.0/", "private_address"],
    ["https://[::1]/", "private_address"],
    ["https://[::]/", "private_address"],
    ["https://[fe80::1]/", "private_address"],
    ["https://[fd00::1]/", "private_address"],
    ["https://[::ffff:127.0.0.1]/", "private_address"],
    ["https://[::ffff:10.0.0.1]/", "private_address"],
    ["https://[64:ff9b::a00:1]/", "private_address"],
    ["https://localhost/", "local_name"],
    ["https://LOCALHOST./", "local_name"],
    ["https://api.localhost/", "local_name"],
    ["https://printer.local/", "local_name"],
    ["https://intranet/", "local_name"],
    ["http://127.0.0.1:8080/", "not_https"],
    ["http://localhost:3000/", "not_https"],
  ];

  it.each(REFUSED)("refuses %s (%s) with a 400 naming the url, storing nothing", async (url, code) => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_endpoints").first<{ n: number }>();
    const error = await refusal(await create({ url }));
    expect(error).toMatchObject({ location: "body", path: "url", code });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_endpoints").first<{ n: number }>()).toEqual(before);
  });

  it.each(["https://crm.example.com/hooks?tenant=1", "https://8.8.8.8/", "https://[2001:db8::1]/", "https://172.32.0.1/", "https://xn--mnchen-3ya.example/"])("accepts %s", async (url) => {
    expect((await create({ url })).status).toBe(201);
  });

  it("with WEBHOOKS_ALLOW_LOCALHOST=true also http://127.0.0.1:* and http://localhost:*, nothing else that is local", async () => {
    const local = { ...env, WEBHOOKS_ALLOW_LOCALHOST: "true" };
    const post = (url: string) =>
      app.request("/v1/webhooks", { method: "POST", headers: { "Content-Type": "application/json", Authorization: HOOKS }, body: JSON.stringify({ url }) }, local);
    for (const url of ["http://127.0.0.1:8080/hook", "http://localhost:3000/hook"]) expect((await post(url)).status, url).toBe(201);
    for (const url of ["http://10.0.0.1/", "http://[::1]:8080/", "http://127.0.0.2:8080/", "http://crm.example.com/"]) expect((await post(url)).status, url).toBe(400);
  });
});

describe("the request body", () => {
  it.each([
    [{}, "url", "required"],
    [{ url: "https://crm.example.com/", types: ["OPT_MAYBE"] }, "types.0", "invalid_value"],
    [{ url: "https://crm.example.com/", types: [] }, "types", "too_small"],
    [{ url: "https://crm.example.com/", topics: ["A", "A"] }, "topics", "custom"],
    [{ url: "https://crm.example.com/", secret: "whsec_mine" }, "", "unrecognized_keys"],
  ])("refuses %j at %s (%s)", async (body, path, code) => {
    expect(await refusal(await create(body))).toMatchObject({ path, code });
  });

  it("refuses a body that is not JSON (415)", async () => {
    const response = await call("/v1/webhooks", { method: "POST", headers: { Authorization: HOOKS, "Content-Type": "text/plain" }, body: "url=https://x.example" });
    expect(response.status).toBe(415);
  });
});
