import { identifierKey } from "../../config";
import { keyedHash } from "../../chain";

/**
 * The record of one Idempotency-Key: one Durable Object per (organization, operation, key), named
 * by their HMAC under IDENTIFIER_KEY, so no object name carries a key in clear (a client may
 * derive its keys from personal data). The leading tag keeps these names apart from the ledgers'.
 */
export async function idempotencyRecordFor(env: Env, organizationId: string, operation: string, key: string) {
  const secret = identifierKey(env);
  return env.IDEMPOTENCY_RECORD.get(env.IDEMPOTENCY_RECORD.idFromName(keyedHash(secret, JSON.stringify(["idempotency", organizationId, operation, key]))));
}
