import { commitmentsOf, linkHash, type Commitments } from "../../chain";
import type { EventProof } from "../../consent-event";
import type { EventRecord } from "../event-record";

/** Whose chain a ledger keeps: the organization and the identifier's keyed hash. */
export interface ChainOwner {
  organizationId: string;
  identifierHash: string;
}

type LinkedRecord = Pick<EventRecord, "sequence" | "type" | "topic" | "createdAt" | "occurredAt">;

/** The link of a stored event over the given commitments (those it was stored with, when checking it). */
export function linkOf(owner: ChainOwner, prevHash: string | null, record: LinkedRecord, commitments: Commitments, proof: EventProof | null | undefined): string {
  return linkHash({
    seq: record.sequence,
    prev_hash: prevHash,
    organization_id: owner.organizationId,
    identifier_hash: owner.identifierHash,
    type: record.type,
    topic: record.topic,
    created_at: record.createdAt,
    occurred_at: record.occurredAt ?? undefined,
    commitments,
    recorded_by: proof?.recorded_by,
    request_id: proof?.request_id,
    follows_erasure: proof?.follows_erasure,
  });
}

/** The chain fields of one event (its commitments and link), from what is stored of it and the previous link. */
export function chainFields(
  identifierKey: string,
  owner: ChainOwner,
  prevHash: string | null,
  record: LinkedRecord & Pick<EventRecord, "source" | "meta">,
  proof: EventProof | null,
): Pick<EventRecord, "hash" | "prevHash" | "commitments"> {
  const commitments = commitmentsOf(identifierKey, { source: record.source, meta: record.meta, client_ip: proof?.client_ip });
  return { hash: linkOf(owner, prevHash, record, commitments, proof), prevHash, commitments: JSON.stringify(commitments) };
}
