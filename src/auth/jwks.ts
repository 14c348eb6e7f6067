import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { KeysUnavailable } from "./errors";

/** A key set is fetched again once this old, and for a token with an unknown `kid` once this old. */
const MAX_AGE_MS = 10 * 60_000;
const COOLDOWN_MS = 30_000;
const TIMEOUT_MS = 5_000;

/**
 * Each URL's key set as last fetched (parsed JSON) and when. Plain data only, never a pending fetch:
 * a request must not await another's promise, so a request that finds the set missing or stale
 * fetches it itself (concurrent misses each fetch).
 */
const fetched = new Map<string, { jwks: JSONWebKeySet; at: number }>();

async function fetchKeySet(url: string) {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json, application/jwk-set+json" }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new KeysUnavailable(`The key set at ${url} could not be fetched: ${String(error)}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new KeysUnavailable(`The key set at ${url} answered ${response.status}.`);
  }
  let jwks: JSONWebKeySet;
  try {
    jwks = await response.json();
    // Throws unless it is a key set.
    createLocalJWKSet(jwks);
  } catch {
    throw new KeysUnavailable(`The key set at ${url} is not a JSON Web Key Set.`);
  }
  const set = { jwks, at: Date.now() };
  fetched.set(url, set);
  return set;
}

/**
 * jose's key lookup in the key set at `url`: fetched when missing or stale, and again for an
 * unknown `kid` (a rotated key) unless fetched within COOLDOWN_MS, so that a flood of made-up kids
 * does not hammer the identity provider. jose's local set is built per lookup: it keeps pending key
 * imports, which must not be shared across requests either.
 */
export function keySet(url: string): JWTVerifyGetKey {
  return async (header, token) => {
    let set = fetched.get(url);
    if (!set || Date.now() - set.at >= MAX_AGE_MS) set = await fetchKeySet(url);
    try {
      return await createLocalJWKSet(set.jwks)(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - set.at < COOLDOWN_MS) throw error;
      return createLocalJWKSet((await fetchKeySet(url)).jwks)(header, token);
    }
  };
}
