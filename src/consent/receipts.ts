import { CompactSign, compactVerify, importJWK, SignJWT } from "jose";
import { ConfigError, settings, type ReceiptKey } from "../config";
import type { PublicReceiptKey } from "./schemas";

/** What a receipt attests: one event of a ledger, named by its place in the hash chain. */
export interface ReceiptRecord {
  organizationId: string;
  /** The keyed hash of the identifier (hex), never the identifier itself. */
  identifierHash: string;
  seq: number;
  hash: string; // the event's chain hash (hex SHA-256)
  type: "OPT_IN" | "OPT_OUT" | "DOUBLE_OPT_IN_REQUESTED" | "DOUBLE_OPT_IN";
  topic: string;
  createdAt: string; // ISO 8601
  source?: string;
  noticeVersion?: string;
  noticeTextSha256?: string;
  language?: string;
}

/** ISO/IEC TS 27560:2023's field names, in this gateway's flat profile, version 1 (README "Receipts"). */
export const RECEIPT_SCHEMA_VERSION = "27560:2023+consent-gateway.1";
/** The JWS `typ`, so a receipt is never mistaken for another JWT signed by the same keys. */
export const RECEIPT_TYPE = "consent-receipt+jwt";
/** The `iss` without PUBLIC_BASE_URL (with it, `iss` is the origin that serves the key set). */
export const DEFAULT_RECEIPT_ISSUER = "consent-gateway";

/** The ISO 27560 state each event puts consent in (README "Receipts"). */
const EVENT_STATE: Record<ReceiptRecord["type"], string> = {
  OPT_IN: "given",
  DOUBLE_OPT_IN: "given",
  OPT_OUT: "withdrawn",
  DOUBLE_OPT_IN_REQUESTED: "requested",
};

function configuredKeys(env: Env): ReceiptKey[] {
  const keys = settings(env).RECEIPT_SIGNING_KEYS;
  if (!keys) throw new ConfigError("RECEIPT_SIGNING_KEYS", "is not set");
  return keys;
}

/** A key's public part: fields picked, never spread, so `d` cannot leak. */
function publicPart(key: ReceiptKey): PublicReceiptKey {
  return { kty: key.kty, crv: key.crv, x: key.x, ...(key.kty === "EC" ? { y: key.y } : {}), kid: key.kid, alg: key.alg, use: "sig" };
}

/** Every configured key, the signing one and those rotated out, so that older receipts keep verifying. */
export function receiptKeySet(env: Env): { keys: PublicReceiptKey[] } {
  return { keys: configuredKeys(env).map(publicPart) };
}

/** Imported private keys; only imported ones, never a pending import (a request must not await another's promise). */
const imported = new Map<string, CryptoKey>();

async function privateKey(key: ReceiptKey): Promise<CryptoKey> {
  const id = JSON.stringify(key);
  let cryptoKey = imported.get(id);
  if (!cryptoKey) {
    cryptoKey = await importChecked(key);
    imported.set(id, cryptoKey);
  }
  return cryptoKey;
}

const PROBE = new TextEncoder().encode("receipt key probe");

/**
 * Imports a signing key and checks that its published part verifies what it signs: WebCrypto takes
 * an Ed25519 key's `x` on trust, and a wrong one would sign receipts that nobody can verify.
 */
async function importChecked(key: ReceiptKey): Promise<CryptoKey> {
  try {
    const signing = (await importJWK(key, key.alg)) as CryptoKey;
    const probe = await new CompactSign(PROBE).setProtectedHeader({ alg: key.alg }).sign(signing);
    await compactVerify(probe, await importJWK(publicPart(key), key.alg));
    return signing;
  } catch {
    throw new ConfigError("RECEIPT_SIGNING_KEYS", `key ${JSON.stringify(key.kid)} is not a valid key pair (d and its public part)`);
  }
}

const NAMESPACE = "1a88d0b3-dbb2-4d35-9d71-6ace807b8d38";
const hexToBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (byte) => parseInt(byte, 16));

/** A UUIDv5 (RFC 9562) of the event's place: the same event always has the same record_id, whoever asks. */
async function recordId({ organizationId, identifierHash, seq }: ReceiptRecord): Promise<string> {
  const name = new TextEncoder().encode(JSON.stringify([organizationId, identifierHash, seq]));
  const input = new Uint8Array([...hexToBytes(NAMESPACE.replace(/-/g, "")), ...name]);
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-1", input)).slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A signed consent receipt of one event: a compact JWS (a JWT) under the first RECEIPT_SIGNING_KEYS key. */
export async function issueReceipt(env: Env, record: ReceiptRecord): Promise<string> {
  const signer = configuredKeys(env)[0]!;
  const issuer = settings(env).PUBLIC_BASE_URL ?? DEFAULT_RECEIPT_ISSUER;
  const notice =
    record.noticeVersion === undefined && record.noticeTextSha256 === undefined
      ? {}
      : {
          privacy_notice: {
            ...(record.noticeVersion === undefined ? {} : { version: record.noticeVersion }),
            ...(record.noticeTextSha256 === undefined ? {} : { text_sha256: record.noticeTextSha256 }),
          },
        };
  return new SignJWT({
    schema_version: RECEIPT_SCHEMA_VERSION,
    record_id: await recordId(record),
    pii_principal_id: record.identifierHash,
    pii_controllers: [record.organizationId],
    purpose: record.topic,
    event_type: record.type,
    event_state: EVENT_STATE[record.type],
    event_time: record.createdAt,
    ...(record.source === undefined ? {} : { collection_method: record.source }),
    ...notice,
    ...(record.language === undefined ? {} : { language: record.language }),
    seq: record.seq,
    hash: record.hash,
  })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: RECEIPT_TYPE })
    .setIssuedAt()
    .setIssuer(issuer)
    .sign(await privateKey(signer));
}
