import { env } from "cloudflare:workers";
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import { basic, call, hs256, list, publish, rs256, uniqueEmail } from "../helpers/gateway";

const event = () => ({ type: "OPT_IN", topic: "T", identifier: uniqueEmail() });

async function expectUnauthorized(response: Response, detail: string | RegExp) {
  expect(response.status).toBe(401);
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="consent-gateway".*, Basic realm="consent-gateway"/);
  const problem = await response.json<any>();
  expect(problem).toMatchObject({ type: "urn:consent-gateway:problem:unauthorized", title: "Unauthorized", status: 401 });
  expect(problem.detail).toMatch(detail);
}

/** A JWT signed with nothing: the `none` algorithm. */
function unsignedToken(claims: object) {
  const part = (value: object) => base64url.encode(JSON.stringify(value));
  return `Bearer ${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
}

describe("authentication on the epilot API", () => {
  it("accepts a configured Basic client", async () => {
    expect((await publish(event(), basic("acme"))).status).toBe(201);
  });

  it("accepts an HS256 JWT and an RS256 JWT verified against the JWKS", async () => {
    expect((await publish(event(), await hs256({ organization_id: "org-acme", sub: "u" }))).status).toBe(201);
    const response = await publish(event(), await rs256({ organization_id: "org-acme" }));
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ organization_id: "org-acme" });
  });

  it("refuses a request without credentials", async () => {
    await expectUnauthorized(await call("/v1/consent/someone@example.com"), "Credentials are required.");
  });

  it("refuses a wrong secret and an unknown client alike", async () => {
    await expectUnauthorized(await publish(event(), basic("acme", "wrong")), "The client id or secret is wrong.");
    await expectUnauthorized(await publish(event(), basic("nobody")), "The client id or secret is wrong.");
    await expectUnauthorized(await publish(event(), `Basic ${btoa("no-colon")}`), "The client id or secret is wrong.");
    await expectUnauthorized(await publish(event(), "Basic %%%"), "The client id or secret is wrong.");
  });

  it("refuses a JWT signed with another key (forged)", async () => {
    const forged = await hs256({ organization_id: "org-acme" }, { secret: "not-the-gateway-secret-not-the-gateway" });
    await expectUnauthorized(await publish(event(), forged), "The bearer token's signature does not verify.");
  });

  it("refuses a JWT whose claims were altered after signing", async () => {
    const [header, , signature] = (await hs256({ organization_id: "org-acme" })).slice(7).split(".");
    const payload = base64url.encode(JSON.stringify({ organization_id: "org-globex", exp: Math.floor(Date.now() / 1000) + 300 }));
    await expectUnauthorized(await publish(event(), `Bearer ${header}.${payload}.${signature}`), /signature does not verify/);
  });

  it("refuses an expired JWT", async () => {
    const expired = await hs256({ organization_id: "org-acme" }, { expiresIn: "-10s" });
    const response = await publish(event(), expired);
    await expectUnauthorized(response, "The bearer token has expired.");
    expect(response.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  });

  it("refuses an unsigned (alg: none) JWT", async () => {
    await expectUnauthorized(await publish(event(), unsignedToken({ organization_id: "org-acme" })), "The bearer token's algorithm (none) is not accepted.");
  });

  it("refuses a JWT with an algorithm that is not configured", async () => {
    const header = base64url.encode(JSON.stringify({ alg: "HS512" }));
    const token = `Bearer ${header}.${base64url.encode("{}")}.c2ln`;
    await expectUnauthorized(await publish(event(), token), "The bearer token's algorithm (HS512) is not accepted.");
  });

  it("refuses a JWT without an organization, and one without exp", async () => {
    await expectUnauthorized(await publish(event(), await hs256({ sub: "someone" })), 'The bearer token has no "organization_id" claim.');
    const noExp = await new (await import("jose")).SignJWT({ organization_id: "org-acme" })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    await expectUnauthorized(await publish(event(), `Bearer ${noExp}`), /"exp" claim/);
  });

  it("refuses garbage as a bearer token", async () => {
    await expectUnauthorized(await publish(event(), "Bearer not.a.jwt"), "The bearer token is not a JWT.");
    await expectUnauthorized(await publish(event(), "Bearer"), "The bearer token is not a JWT.");
  });
});

describe("scopes", () => {
  it("lets a read-only client list but not publish", async () => {
    const response = await publish(event(), basic("acme-reader"));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({
      type: "urn:consent-gateway:problem:forbidden",
      status: 403,
      detail: 'This operation needs the "consent:write" scope.',
    });
    expect((await list(uniqueEmail(), "", basic("acme-reader"))).status).toBe(200);
  });

  it("lets a write-only client publish but not list", async () => {
    expect((await publish(event(), basic("acme-writer"))).status).toBe(201);
    const response = await list(uniqueEmail(), "", basic("acme-writer"));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ detail: 'This operation needs the "consent:read" scope.' });
  });

  it("takes JWT scopes from the space-separated scope claim", async () => {
    const reader = await hs256({ organization_id: "org-acme", scope: "openid consent:read" });
    expect((await publish(event(), reader)).status).toBe(403);
    expect((await list(uniqueEmail(), "", reader)).status).toBe(200);
    const both = await hs256({ organization_id: "org-acme", scope: "consent:write consent:read" });
    expect((await publish(event(), both)).status).toBe(201);
    const none = await hs256({ organization_id: "org-acme", scope: "openid" });
    expect((await list(uniqueEmail(), "", none)).status).toBe(403);
  });

  it("checks credentials before the body", async () => {
    const response = await call("/v1/consent/publish", { method: "POST", body: "not json" });
    expect(response.status).toBe(401);
  });
});
