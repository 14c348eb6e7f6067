import type { Principal } from "../auth/principal";
import type { ConsentEvent, EventInput } from "../consent-event";
import { queryIndex } from "../storage/event-index";
import { appendedEvent, type IndexEntry } from "../storage/event-record";
import { feedIndex } from "../storage/index-feed";
import { ledgerName, ledgerStub, type ListQuery } from "../storage/identifier-ledger";
import { normalizeIdentifier } from "./identifier";
import { encodeFeedCursor, type OrganizationEventsQuery } from "./schemas";

/** The Durable Object that owns one identifier's history in the caller's organization: the one way to address a ledger. */
export function ledgerFor(env: Env, organizationId: string, identifier: string) {
  const key = { organizationId, identifier: normalizeIdentifier(identifier) };
  const id = env.IDENTIFIER_LEDGER.idFromName(ledgerName(key));
  return { key, id, stub: ledgerStub(env, id) };
}

/** Work a request leaves running after it is answered (the Workers ExecutionContext). */
export interface Background {
  waitUntil(promise: Promise<unknown>): void;
}

/** Hands an appended event to the D1 index (in a batch with other requests' events). */
export function indexSoon(env: Env, background: Background, entry: IndexEntry | undefined): void {
  if (entry) feedIndex(env, (promise) => background.waitUntil(promise), entry);
}

/** Appends an event to the identifier's history in the principal's organization; answers its row (with its ledger's id). */
export async function appendEvent(env: Env, background: Background, principal: Principal, identifier: string, event: EventInput): Promise<IndexEntry> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  const entry = await stub.append(key, event);
  indexSoon(env, background, entry);
  return entry;
}

/** Records an event and answers it as stored. */
export async function recordEvent(env: Env, background: Background, principal: Principal, identifier: string, event: EventInput): Promise<ConsentEvent> {
  return appendedEvent(await appendEvent(env, background, principal, identifier, event), event.meta);
}

/** One page of an identifier's history, newest first. */
export function listEvents(env: Env, principal: Principal, identifier: string, query: ListQuery): Promise<{ events: ConsentEvent[]; total: number }> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  return stub.list(key, query);
}

/**
 * The organization's events across identifiers in the order they landed in the D1 index (which
 * trails the identifiers' own ledgers by the index pipeline's delay).
 */
export async function listOrganizationEvents(
  env: Env,
  principal: Principal,
  { cursor, since, until, ...filters }: OrganizationEventsQuery,
): Promise<{ events: ConsentEvent[]; next_cursor: string | null; has_more: boolean }> {
  const { events, next, last } = await queryIndex(env.DB, principal.organizationId, {
    ...filters,
    since: since?.toISOString(),
    until: until?.toISOString(),
    after: cursor,
  });
  // Past the last page the cursor stays put, so a poller resumes where it stopped.
  const resume = last ?? cursor;
  return { events, next_cursor: resume === undefined ? null : encodeFeedCursor(resume), has_more: next };
}
