/**
 * The hash chain every history is linked by, and the keyed hashes that stand for personal data in
 * it. It sits below every layer because the ledger links each event in the same synchronous
 * transaction that numbers it (so the hashing here is synchronous: no await may come between), and
 * the consent layer re-checks the links and names identifiers with the same functions.
 *
 * A link is the SHA-256 of the RFC 8785 canonical JSON of the event's chained fields and the
 * previous link. Personal fields enter it only as keyed commitments (HMAC-SHA256 under
 * IDENTIFIER_KEY): an erasure can drop the values, keep the commitments, and the chain still verifies.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import canonicalize from "canonicalize";

/** The version of what a link covers; a change of the chained fields is a new version. */
export const CHAIN_VERSION = 1;

/** HMAC-SHA256 of `text` under `key`, hex. */
export const keyedHash = (key: string, text: string): string => bytesToHex(hmac(sha256, utf8ToBytes(key), utf8ToBytes(text)));

/** An identifier's keyed hash in its organization: what names its ledger and stands for it in the chain and in receipts. */
export const identifierHash = (key: string, organizationId: string, normalized: string): string => keyedHash(key, JSON.stringify([organizationId, normalized]));

/** The personal fields of an event that enter its link only as commitments. */
export type CommittedField = "source" | "meta" | "client_ip";
export type Commitments = Partial<Record<CommittedField, string>>;

/** The keyed commitment to one personal field's stored text (domain-separated by the field's name). */
export const commitment = (key: string, field: CommittedField, text: string) => keyedHash(key, `${field}\u0000${text}`);

/** The commitments to the fields an event has. */
export function commitmentsOf(key: string, fields: Partial<Record<CommittedField, string | null | undefined>>): Commitments {
  const out: Commitments = {};
  for (const field of ["source", "meta", "client_ip"] as const) {
    const text = fields[field];
    if (text !== undefined && text !== null) out[field] = commitment(key, field, text);
  }
  return out;
}

/** What one link covers. */
export interface ChainedEvent {
  seq: number;
  /** The previous event's hash; null for the first. */
  prev_hash: string | null;
  organization_id: string;
  /** The identifier's keyed hash (what names its ledger), never the identifier. */
  identifier_hash: string;
  type: string;
  topic: string;
  created_at: string;
  /**
   * When the event happened by its sender's clock (a Copilot Collect event's timestamp), if it says.
   * Optional and left out when absent, so every link made before it still hashes the same (v stays 1).
   */
  occurred_at?: string;
  commitments: Commitments;
  /** Who recorded it (API client id or JWT sub) and in which request: the caller's, not the person's. */
  recorded_by?: string;
  request_id?: string;
  /** On the first event after an erasure (absent otherwise, so every earlier link hashes the same). */
  follows_erasure?: true;
}

/** The event's link: hex SHA-256 of its canonical JSON. */
export function linkHash(event: ChainedEvent): string {
  const fields = Object.fromEntries(Object.entries({ v: CHAIN_VERSION, ...event }).filter(([, value]) => value !== undefined));
  return bytesToHex(sha256(utf8ToBytes(canonicalize(fields)!)));
}
