import { base64url } from "jose";
import { identifierKey } from "../../config";

/**
 * Signing secrets at rest: each is sealed with AES-256-GCM under a key derived by HKDF-SHA-256
 * from IDENTIFIER_KEY (so no new setting to keep), bound to its endpoint's id as additional data
 * (a ciphertext copied to another row does not open). The gateway must read them back to sign,
 * so they cannot be hashed; a copy of D1 alone does not give them away.
 */
const INFO = new TextEncoder().encode("consent-gateway webhook secrets v1");
const VERSION = "v1";

/** Only derived keys are kept, never a pending derivation (nothing crosses requests). */
const keys = new Map<string, CryptoKey>();

async function sealingKey(env: Env): Promise<CryptoKey> {
  const secret = identifierKey(env);
  let key = keys.get(secret);
  if (!key) {
    const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveKey"]);
    key = await crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: INFO }, material, { name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]);
    keys.set(secret, key);
  }
  return key;
}

/** A new Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

/** `secret` sealed for the endpoint `endpointId`: `v1.<iv>.<ciphertext>`. */
export async function sealSecret(env: Env, endpointId: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(endpointId) }, await sealingKey(env), new TextEncoder().encode(secret));
  return [VERSION, base64url.encode(iv), base64url.encode(new Uint8Array(sealed))].join(".");
}

/** The secret a sealed text holds (throws if it was altered or sealed for another endpoint or key). */
export async function openSecret(env: Env, endpointId: string, sealed: string): Promise<string> {
  const [version, iv, ciphertext] = sealed.split(".");
  if (version !== VERSION || !iv || !ciphertext) throw new Error("not a sealed webhook secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: base64url.decode(iv), additionalData: new TextEncoder().encode(endpointId) },
    await sealingKey(env),
    base64url.decode(ciphertext),
  );
  return new TextDecoder().decode(plain);
}
