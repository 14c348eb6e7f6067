import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { DEFAULT_SCOPES, SCOPES, type Scope, type Settings } from "../config";
import { hmacKey } from "../hmac-key";
import { KeysUnavailable, Unauthenticated } from "./errors";
import { keySet } from "./jwks";
import type { Principal } from "./principal";

/** A refused bearer token, with RFC 6750's error code. */
const refused = (message: string) => new Unauthenticated(message, "invalid_token");

/** Algorithms accepted from a JWKS; HS256 is accepted only with JWT_SECRET. Never `none`. */
const JWKS_ALGORITHMS = ["RS256", "ES256"];

/**
 * Whether verifying failed on the key set rather than on the token (besides the set being
 * unavailable, jwks.ts's KeysUnavailable): a key jose cannot use (not jose's error, or JWKSInvalid).
 */
function keySetFailed(error: unknown): boolean {
  return !(error instanceof errors.JOSEError) || error instanceof errors.JWKSInvalid;
}

/**
 * Principals of tokens verified lately, per settings (a new secret or issuer starts afresh): a
 * client sends the same token many times. Kept at most a minute and never past the token's `exp`;
 * bounded, oldest dropped first.
 */
const verified = new WeakMap<Settings, Map<string, { principal: Principal; until: number }>>();
const VERIFIED_MAX = 1000;
const VERIFIED_MS = 60_000;

export async function verifyBearer(token: string, config: Settings): Promise<Principal> {
  let cache = verified.get(config);
  if (!cache) verified.set(config, (cache = new Map()));
  const hit = cache.get(token);
  if (hit && hit.until > Date.now()) return hit.principal;
  cache.delete(token);
  const { principal, exp } = await verifyToken(token, config);
  if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value!);
  cache.set(token, { principal, until: Math.min(Date.now() + VERIFIED_MS, exp * 1000) });
  return principal;
}

async function verifyToken(token: string, config: Settings): Promise<{ principal: Principal; exp: number }> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw refused("The bearer token is not a JWT.");
  }
  const options = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    requiredClaims: ["exp"],
  };
  let payload: JWTPayload;
  try {
    if (alg === "HS256" && config.JWT_SECRET) {
      ({ payload } = await jwtVerify(token, await hmacKey(config.JWT_SECRET), { ...options, algorithms: ["HS256"] }));
    } else if (alg && JWKS_ALGORITHMS.includes(alg) && config.JWT_JWKS_URL) {
      ({ payload } = await jwtVerify(token, keySet(config.JWT_JWKS_URL), { ...options, algorithms: JWKS_ALGORITHMS }));
    } else {
      throw refused(`The bearer token's algorithm (${alg ?? "none"}) is not accepted.`);
    }
  } catch (error) {
    if (error instanceof Unauthenticated || error instanceof KeysUnavailable) throw error;
    if (keySetFailed(error)) throw new KeysUnavailable(String(error));
    if (error instanceof errors.JWTExpired) throw refused("The bearer token has expired.");
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw refused(`The bearer token's "${error.claim}" claim is invalid: ${error.reason}.`);
    }
    throw refused("The bearer token's signature does not verify.");
  }
  checkLifetime(payload, config.JWT_MAX_LIFETIME_SECONDS);
  const organizationId = payload[config.JWT_ORGANIZATION_CLAIM];
  if (typeof organizationId !== "string" || organizationId === "") {
    throw refused(`The bearer token has no "${config.JWT_ORGANIZATION_CLAIM}" claim.`);
  }
  return {
    principal: { organizationId, scopes: scopesOf(payload.scope), subject: typeof payload.sub === "string" ? payload.sub : "jwt", scheme: "bearer" },
    exp: payload.exp!,
  };
}

/** How far a token's `iat` may be ahead of our clock. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * What jose leaves to us: `exp: 1e400` parses as Infinity and would never expire, and an `iat`
 * from the future or a decade-long token is a key-handling mistake we should not honour.
 */
function checkLifetime({ exp, iat }: JWTPayload, maxLifetime: number) {
  const now = Date.now() / 1000;
  if (!Number.isFinite(exp)) throw refused('The bearer token\'s "exp" claim must be a finite number.');
  if (iat !== undefined && !Number.isFinite(iat)) throw refused('The bearer token\'s "iat" claim must be a finite number.');
  if (iat !== undefined && iat > now + CLOCK_SKEW_SECONDS) throw refused('The bearer token\'s "iat" claim is in the future.');
  if (exp! - (iat ?? now) > maxLifetime) {
    throw refused(`The bearer token lives longer than ${maxLifetime} seconds (JWT_MAX_LIFETIME_SECONDS).`);
  }
}

/** The space-separated `scope` claim; absent means the default scopes (DEFAULT_SCOPES). */
function scopesOf(claim: unknown): Set<Scope> {
  if (claim === undefined) return new Set(DEFAULT_SCOPES);
  const granted = typeof claim === "string" ? claim.split(" ") : [];
  return new Set(SCOPES.filter((scope) => granted.includes(scope)));
}
