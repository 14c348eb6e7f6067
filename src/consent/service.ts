import type { Principal } from "../auth/principal";
import { ledgerName, type ListQuery, type StoredEvent } from "../storage/identifier-ledger";
import { normalizeIdentifier } from "./identifier";
import type { ConsentEvent, ConsentMeta, EventType } from "./schemas";

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
