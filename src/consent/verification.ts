import { commitmentsOf, type Commitments } from "../chain";
import { linkOf, type ChainOwner } from "../storage/ledger/chain-link";
import type { EventProof } from "../consent-event";
import type { EventRecord } from "../storage/event-record";

/** What a verification found: the chain's length and head, or the first event that does not hold and in which store. */
export interface Verification {
  intact: boolean;
  length: number;
  head?: string;
  first_broken_seq?: number;
  store?: "ledger" | "d1";
}

const parse = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

/** Whether each stored value still matches its commitment (an erased value, absent, leaves only the commitment). */
function committed(key: string, record: EventRecord, commitments: Commitments, proof: EventProof | undefined): boolean {
  const recomputed = commitmentsOf(key, { source: record.source, meta: record.meta, client_ip: proof?.client_ip });
  return Object.entries(recomputed).every(([field, value]) => commitments[field as keyof Commitments] === value);
}

/**
 * The first sequence at which `records` (oldest first) stop being the chain: a missing or
 * reordered row, a value that no longer matches its commitment, a link that does not hash to what
 * is stored, or one that does not follow its predecessor. `expected`, when given, is the ledger's
 * chain the copy must agree with.
 */
export function firstBroken(key: string, owner: ChainOwner, records: EventRecord[], expected?: EventRecord[]): number | undefined {
  let previous: string | null = null;
  for (const [i, record] of records.entries()) {
    const seq = i + 1;
    if (record.sequence !== seq || record.hash === null) return seq;
    const commitments = parse<Commitments>(record.commitments) ?? {};
    const proof = parse<EventProof>(record.proof);
    const link = linkOf(owner, previous, record, commitments, proof);
    if (record.prevHash !== previous || link !== record.hash || !committed(key, record, commitments, proof)) return seq;
    if (expected && expected[i]?.hash !== record.hash) return seq;
    previous = record.hash;
  }
  return undefined;
}

/** Verifies the ledger's chain, then the feed's copy against it (the copy may lag: a missing tail is not a break). */
export function verifyChain(key: string, owner: ChainOwner, ledger: EventRecord[], feed: EventRecord[]): Verification {
  const length = ledger.length;
  const inLedger = firstBroken(key, owner, ledger);
  if (inLedger !== undefined) return { intact: false, length, first_broken_seq: inLedger, store: "ledger" };
  const inFeed = feed.length > length ? length + 1 : firstBroken(key, owner, feed, ledger);
  if (inFeed !== undefined) return { intact: false, length, first_broken_seq: inFeed, store: "d1" };
  return { intact: true, length, ...(length > 0 ? { head: ledger.at(-1)!.hash! } : {}) };
}
