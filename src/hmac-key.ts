/**
 * HMAC-SHA-256 keys (HS256), imported once per secret per isolate instead of on every request. Only
 * imported keys are kept, never a pending import: a request must not await another's promise
 * (concurrent first uses each import).
 */
const keys = new Map<string, CryptoKey>();

export async function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

/** Bytes as lower-case hex. */
export const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** HMAC-SHA256 under `secret` of the JSON of `parts`, as hex: a name that does not carry its parts in clear. */
export async function hmacHex(secret: string, parts: readonly string[]): Promise<string> {
  return hex(await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(JSON.stringify(parts))));
}
