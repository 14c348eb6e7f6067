import type { Principal } from "../auth/principal";
import { ledgerName, type ListQuery, type StoredEvent } from "../storage/identifier-ledger";
import { normalizeIdentifier } from "./identifier";
import { queryIndex } from "../storage/event-index";
import type { ConsentEventRow } from "../storage/d1-schema";
import { encodeFeedCursor, type ConsentEvent, type ConsentMeta, type EventType, type OrganizationEventsQuery } from "./schemas";

/** An event to record, as the API surfaces hand it over. */
export interface EventInput {
  type: EventType;
  topic: string;
  source?: string;
  meta?: ConsentMeta;
}

/** The Durable Object that owns one identifier's history in the caller's organization. */
export function ledgerFor(env: Env, organizationId: string, identifier: string) {
  const key = { organizationId, identifier: normalizeIdentifier(identifier) };
  const id = env.IDENTIFIER_LEDGER.idFromName(ledgerName(key));
  return { key, id, stub: env.IDENTIFIER_LEDGER.get(id) };
}

/** Appends an event to the identifier's history in the principal's organization. */
export async function recordEvent(
  env: Env,
  principal: Principal,
  identifier: string,
  { meta, ...event }: EventInput,
): Promise<ConsentEvent> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  const stored = await stub.append(key, { ...event, ...(meta === undefined ? {} : { meta: JSON.stringify(meta) }) });
  return toConsentEvent(stored);
}

/** One page of an identifier's history, newest first. */
export async function listEvents(
  env: Env,
  principal: Principal,
  identifier: string,
  query: ListQuery,
): Promise<{ events: ConsentEvent[]; total: number }> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  const page = await stub.list(key, query);
  return { events: page.events.map(toConsentEvent), total: page.total };
}

/**
 * The organization's events across identifiers, oldest first, from the D1 index (which trails the
 * identifiers' own ledgers by the outbox delay).
 */
export async function listOrganizationEvents(
  env: Env,
  principal: Principal,
  { cursor, since, until, limit, ...filters }: OrganizationEventsQuery,
): Promise<{ events: ConsentEvent[]; next_cursor: string | null }> {
  // Bounds are 1970..9999 (validated), where ISO 8601 UTC text sorts as time does, like created_at.
  const utc = (instant?: Date) => instant?.toISOString();
  const rows = await queryIndex(env.DB, principal.organizationId, {
    ...filters,
    since: utc(since),
    until: utc(until),
    limit: limit + 1,
    after: cursor,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    events: page.map(rowToConsentEvent),
    next_cursor: rows.length > limit && last ? encodeFeedCursor(last) : null,
  };
}

function rowToConsentEvent(row: ConsentEventRow): ConsentEvent {
  return toConsentEvent({
    ...row,
    type: row.type as EventType,
    source: row.source ?? undefined,
    meta: row.meta ?? undefined,
  });
}

/** The public (epilot) shape of a stored event. */
export function toConsentEvent(event: StoredEvent): ConsentEvent {
  return {
    type: event.type,
    topic: event.topic,
    identifier: event.identifier,
    ...(event.source === undefined ? {} : { source: event.source }),
    ...(event.meta === undefined ? {} : { meta: JSON.parse(event.meta) as ConsentMeta }),
    organization_id: event.organizationId,
    created_at: event.createdAt,
  };
}
