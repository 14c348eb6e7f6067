import type { Principal } from "../auth/principal";
import type { ConsentEvent, EventInput } from "../consent-event";
import { queryIndex } from "../storage/event-index";
import { ledgerName, type Appended, type ListQuery } from "../storage/identifier-ledger";
import { normalizeIdentifier } from "./identifier";
import { encodeFeedCursor, type OrganizationEventsQuery } from "./schemas";

/** The Durable Object that owns one identifier's history in the caller's organization: the one way to address a ledger. */
export function ledgerFor(env: Env, organizationId: string, identifier: string) {
  const key = { organizationId, identifier: normalizeIdentifier(identifier) };
  const id = env.IDENTIFIER_LEDGER.idFromName(ledgerName(key));
  return { key, id, stub: env.IDENTIFIER_LEDGER.get(id) };
}

/** Appends an event to the identifier's history in the principal's organization; answers it with its ledger's id. */
export async function appendEvent(env: Env, principal: Principal, identifier: string, event: EventInput): Promise<{ ledgerId: string; appended: Appended }> {
  const { key, id, stub } = ledgerFor(env, principal.organizationId, identifier);
  return { ledgerId: id.toString(), appended: await stub.append(key, event) };
}

/** Records an event and answers it as stored. */
export async function recordEvent(env: Env, principal: Principal, identifier: string, event: EventInput): Promise<ConsentEvent> {
  return (await appendEvent(env, principal, identifier, event)).appended.event;
}

/** One page of an identifier's history, newest first. */
export function listEvents(env: Env, principal: Principal, identifier: string, query: ListQuery): Promise<{ events: ConsentEvent[]; total: number }> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  return stub.list(key, query);
}

/**
 * The organization's events across identifiers, oldest first, from the D1 index (which trails the
 * identifiers' own ledgers by the outbox delay).
 */
export async function listOrganizationEvents(
  env: Env,
  principal: Principal,
  { cursor, since, until, ...filters }: OrganizationEventsQuery,
): Promise<{ events: ConsentEvent[]; next_cursor: string | null }> {
  const { events, next } = await queryIndex(env.DB, principal.organizationId, {
    ...filters,
    since: since?.toISOString(),
    until: until?.toISOString(),
    after: cursor,
  });
  return { events, next_cursor: next ? encodeFeedCursor(next) : null };
}
