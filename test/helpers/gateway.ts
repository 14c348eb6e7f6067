import { env, exports } from "cloudflare:workers";
import { importJWK, SignJWT, type JWTPayload } from "jose";

export const BASE = "https://gateway.test";

/** A request to the worker under test, through its real fetch handler. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

/** Basic credentials of a configured test client (see test/fixtures/credentials.ts). */
export const basic = (id: string, secret = `${id}-secret`) => `Basic ${btoa(`${id}:${secret}`)}`;

export async function hs256(claims: JWTPayload, { expiresIn = "5m", secret = env.JWT_SECRET } = {}) {
  return `Bearer ${await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret))}`;
}

/** `kid` names another key than the one it is signed with, e.g. one the key set does not have. */
export async function rs256(claims: JWTPayload, { kid }: { kid?: string } = {}) {
  const jwk = JSON.parse(env.TEST_JWT_PRIVATE_JWK);
  const key = await importJWK(jwk, "RS256");
  return `Bearer ${await new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: kid ?? jwk.kid })
    .setExpirationTime("5m")
    .sign(key)}`;
}

export function postJson(path: string, body: unknown, authorization = basic("acme")) {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: authorization },
    body: JSON.stringify(body),
  });
}

export const publish = (body: unknown, authorization?: string) => postJson("/v1/consent/publish", body, authorization);

export function list(identifier: string, query = "", authorization = basic("acme")) {
  return call(`/v1/consent/${encodeURIComponent(identifier)}${query}`, { headers: { Authorization: authorization } });
}

/** A fresh e-mail address, so tests never share a history. */
export const uniqueEmail = (label = "person") => `${label}-${crypto.randomUUID()}@example.com`;
