import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { ConsentEvent } from "../consent-event";
import { consentEvents, type ConsentEventRow } from "./d1-schema";
import { toConsentEvent } from "./event-record";

/**
 * Writes events to the organization-wide D1 index in one batch (D1 has no interactive
 * transactions). Idempotent: rows already there are left alone, so a retried flush is harmless.
 */
export async function indexEvents(db: D1Database, rows: ConsentEventRow[]): Promise<void> {
  const [first, ...rest] = rows;
  if (!first) return;
  const orm = drizzle(db);
  const insert = (row: ConsentEventRow) => orm.insert(consentEvents).values(row).onConflictDoNothing();
  await orm.batch([insert(first), ...rest.map(insert)]);
}

/** Where a page of the feed ended: the last event's place in the index's order. */
export interface FeedPosition {
  createdAt: string;
  identifier: string;
  sequence: number;
}

export interface IndexQuery {
  topic?: string;
  type?: string;
  /** ISO 8601 UTC instants with four-digit years, the form created_at is stored in, so text order is time order. */
  since?: string;
  until?: string;
  limit: number;
  after?: FeedPosition;
}

/** One page of an organization's events across identifiers, oldest first (keyset-paginated). */
export async function queryIndex(db: D1Database, organizationId: string, query: IndexQuery): Promise<{ events: ConsentEvent[]; next?: FeedPosition }> {
  const t = consentEvents;
  const after = query.after;
  const rows = await drizzle(db)
    .select()
    .from(t)
    .where(
      and(
        eq(t.organizationId, organizationId),
        query.topic === undefined ? undefined : eq(t.topic, query.topic),
        query.type === undefined ? undefined : eq(t.type, query.type),
        query.since === undefined ? undefined : gte(t.createdAt, query.since),
        query.until === undefined ? undefined : lt(t.createdAt, query.until),
        after === undefined
          ? undefined
          : sql`(${t.createdAt}, ${t.identifier}, ${t.sequence}) > (${after.createdAt}, ${after.identifier}, ${after.sequence})`,
      ),
    )
    .orderBy(asc(t.createdAt), asc(t.identifier), asc(t.sequence))
    // One more than asked tells whether there is a next page.
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    events: page.map((row) => toConsentEvent(row, row)),
    ...(rows.length > query.limit && last ? { next: { createdAt: last.createdAt, identifier: last.identifier, sequence: last.sequence } } : {}),
  };
}
