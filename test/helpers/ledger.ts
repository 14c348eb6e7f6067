import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ledgerFor } from "../../src/consent/service";
import type { IdentifierLedger } from "../../src/storage/identifier-ledger";

/** The ledger stub of an identifier in a test organization. */
export const ledgerOf = (organizationId: string, identifier: string) => ledgerFor(env, organizationId, identifier);

/** The sequence numbers and meta of a ledger's events, oldest first, read from its own storage. */
export function storedSequence(stub: DurableObjectStub<IdentifierLedger>) {
  return runInDurableObject(stub, (_: IdentifierLedger, state) =>
    state.storage.sql.exec<{ sequence: number; meta: string }>("SELECT sequence, meta FROM events ORDER BY sequence").toArray(),
  );
}

/** The D1 index rows of one identifier, oldest first. */
export async function indexedRows(organizationId: string, identifier: string) {
  const { results } = await env.DB.prepare(
    "SELECT sequence, type, topic, meta FROM consent_events WHERE organization_id = ? AND identifier = ? ORDER BY sequence",
  )
    .bind(organizationId, identifier)
    .all<{ sequence: number; type: string; topic: string; meta: string | null }>();
  return results;
}

/**
 * Wraps the real D1 binding so that `batch` fails while `fault.failing` is set: the ledger's
 * outbox writes go through the real database otherwise.
 */
export function flakyD1(real: D1Database, fault: { failing: boolean; attempts: number }): D1Database {
  return new Proxy(real, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "batch") {
        return async (...args: Parameters<D1Database["batch"]>) => {
          fault.attempts++;
          if (fault.failing) throw new Error("D1 is unavailable (injected fault)");
          return target.batch(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
