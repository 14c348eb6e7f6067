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
