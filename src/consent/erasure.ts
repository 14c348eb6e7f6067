import type { Principal } from "../auth/principal";
import type { EventType } from "../consent-event";
import type { ErasureAnswer } from "./schemas";
import { announceErasure } from "../storage/webhooks/announce";
import { ledgerFor } from "./service";

/**
 * Erases the identifier's history in the principal's organization (GDPR Art. 17): its ledger
 * keeps a pseudonymous stub and erases D1's copy, the idempotency records forget their answers,
 * and the organization's webhooks hear of it (README "Erasure"). Idempotent: with nothing
 * recorded since, erasing again answers the same erasure.
 */
export async function eraseHistory(env: Env, principal: Principal, identifier: string, reason: string): Promise<ErasureAnswer> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  const erasure = await stub.erase(key, { erasedBy: principal.subject, reason });
  // The answers they keep for retries name the person. Should this fail, erasing again forgets again.
  await Promise.all(erasure.idempotencyRecords.map((id) => env.IDEMPOTENCY_RECORD.get(env.IDEMPOTENCY_RECORD.idFromString(id)).forget()));
  // The systems behind the gateway erase too. Announced on every call, a repeat included: a caller
  // whose erasure answered 500 because the queue refused retries, and the retry announces it.
  await announceErasure(env, principal.organizationId, { identifier: key.identifier, erased_at: erasure.erasedAt });
  return {
    erased_at: erasure.erasedAt,
    erased_by: erasure.erasedBy,
    reason: erasure.reason,
    stub: { identifier_hash: erasure.identifierHash, events: erasure.stub.map((event) => ({ ...event, type: event.type as EventType })) },
  };
}
