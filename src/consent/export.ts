import type { Principal } from "../auth/principal";
import { toConsentEvent } from "../storage/event-record";
import type { ConsentExport } from "./schemas";
import { consentState, ledgerFor, receiptOf } from "./service";

/**
 * Everything the identifier's history holds in the organization, as one document (GDPR Art. 15
 * and 20): every event oldest first with its proof and chain fields and its receipt, and the state
 * per topic. The history comes whole from the ledger in one RPC, never paged. Writes nothing.
 */
export async function exportHistory(env: Env, principal: Pick<Principal, "organizationId">, identifier: string): Promise<ConsentExport> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  const [records, state] = await Promise.all([stub.chain(key), consentState(env, principal, identifier, {})]);
  const events = await Promise.all(
    records.map(async (record) => {
      const event = toConsentEvent(key, record);
      return event.hash === undefined ? event : { ...event, receipt: await receiptOf(env, key.identifierHash, event) };
    }),
  );
  return { exported_at: state.at, organization_id: key.organizationId, identifier: key.identifier, identifier_hash: key.identifierHash, state, events };
}

/** The export's file name: the identifier's hash stands for it (a name is seen by more than the file's reader). */
export const exportFileName = (document: Pick<ConsentExport, "identifier_hash" | "exported_at">) =>
  `consent-export-${document.identifier_hash.slice(0, 16)}-${document.exported_at.slice(0, 10)}.json`;
