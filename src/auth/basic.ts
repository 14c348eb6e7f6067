import type { ApiClient } from "../config";
import { DEFAULT_SCOPES } from "../config";
import type { Principal } from "./principal";

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (byte) => parseInt(byte, 16));
}

/** Compared against when the client id is unknown, so both refusals take the same time. */
const NO_CLIENT_DIGEST = new Uint8Array(32);

/**
 * Authenticates `base64(id:secret)` against the configured clients, comparing the secret's
 * SHA-256 in constant time. Answers undefined for any refusal.
 */
export async function verifyBasic(credentials: string, clients: ApiClient[]): Promise<Principal | undefined> {
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(credentials), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const id = decoded.slice(0, colon);
  const client = clients.find((c) => c.id === id);
  const expected = client ? fromHex(client.secret_sha256) : NO_CLIENT_DIGEST;
  const given = await sha256(decoded.slice(colon + 1));
  const matches = crypto.subtle.timingSafeEqual(given, expected);
  if (!client || !matches) return undefined;
  return {
    organizationId: client.organization_id,
    scopes: new Set(client.scopes ?? DEFAULT_SCOPES),
    subject: client.id,
    scheme: "basic",
  };
}
