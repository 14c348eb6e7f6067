import type { Principal } from "../auth/principal";
import type { Recording } from "../consent-event";
import { eventText } from "../storage/event-record";
import type { Appending } from "../storage/ledger/identifier-ledger";
import { ImportInterrupted } from "./errors";
import type { ImportedConsentEvent } from "./schemas";
import { feedSoon, ledgerFor, type Background } from "./service";

/** What became of one imported event. */
export type ImportOutcome =
  | { status: "stored"; seq: number }
  | { status: "duplicate" }
  | { status: "refused"; field: string; code: string; message: string };

/**
 * How an imported event's id is kept in its identifier's ledger. Copilot Collect's ids share that
 * column, and they can never hold a control character (their schema refuses them): this prefix,
 * with its unit separator, cannot be the start of one, so the two never collide.
 */
const IMPORT_ID_PREFIX = "import\u001f";

/** How many identifiers' ledgers one import writes to at once: a bound on its open RPCs (Workers allow 6 simultaneous connections). */
const LEDGER_CONCURRENCY = 6;

/** What must agree for a repeat of an event_id within one request to be the same event. */
const sameEventText = (identifier: string, event: ImportedConsentEvent) =>
  JSON.stringify([identifier, event.type, event.topic, event.source ?? null, event.meta ?? null, event.occurred_at]);

/**
 * Imports already-validated events into the principal's organization; answers an outcome per event,
 * in the order given. Each identifier's events go to its ledger in one appendMany (one synchronous
 * transaction: all or none), in occurred_at order (ties in request order), and on to the feed as
 * publishes do. An event_id its ledger already holds is a duplicate and records nothing; so is a
 * repeat within the request with the same content, whereas a repeat with other content is refused.
 * If a ledger fails, the others still finish, and ImportInterrupted says that sending the same
 * request again is safe.
 */
export async function importEvents(
  env: Env,
  background: Background,
  principal: Principal,
  events: readonly ImportedConsentEvent[],
  recording: Recording,
): Promise<ImportOutcome[]> {
  const outcomes: ImportOutcome[] = new Array(events.length);
  const firstSeen = new Map<string, string>();
  const ledgers = new Map<string, { address: ReturnType<typeof ledgerFor>; indexes: number[] }>();
  events.forEach((event, index) => {
    const address = ledgerFor(env, principal.organizationId, event.identifier);
    const text = sameEventText(address.key.identifier, event);
    const earlier = firstSeen.get(event.event_id);
    if (earlier !== undefined) {
      outcomes[index] =
        earlier === text
          ? { status: "duplicate" }
          : { status: "refused", field: "event_id", code: "duplicate_event_id", message: "is used by an earlier event of this request with other content" };
      return;
    }
    firstSeen.set(event.event_id, text);
    const group = ledgers.get(address.key.identifierHash) ?? { address, indexes: [] };
    group.indexes.push(index);
    ledgers.set(address.key.identifierHash, group);
  });

  const occurred = events.map((event) => Date.parse(event.occurred_at));
  const groups = [...ledgers.values()];
  const failures: unknown[] = [];
  const appendGroup = async ({ address: { key, stub }, indexes }: (typeof groups)[number]) => {
    // Array.prototype.sort is stable: equal times keep the request's order.
    const ordered = [...indexes].sort((a, b) => occurred[a]! - occurred[b]!);
    const appending: Appending[] = ordered.map((index) => {
      const { event_id, type, topic, source, meta, occurred_at } = events[index]!;
      return { eventId: IMPORT_ID_PREFIX + event_id, event: eventText({ type, topic, source, meta, occurred_at, ...recording }) };
    });
    try {
      const entries = await stub.appendMany(key, appending);
      entries.forEach((entry, i) => {
        outcomes[ordered[i]!] = entry ? { status: "stored", seq: entry.sequence } : { status: "duplicate" };
        feedSoon(env, background, entry ?? undefined);
      });
    } catch (error) {
      failures.push(error);
    }
  };
  // A fixed number of workers take the next identifier until none is left.
  let next = 0;
  const worker = async () => {
    while (next < groups.length) await appendGroup(groups[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(LEDGER_CONCURRENCY, groups.length) }, worker));
  if (failures.length > 0) throw new ImportInterrupted(failures.length, groups.length, { cause: failures[0] });
  return outcomes;
}
