import { and, asc, eq, gt, gte, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { ConsentEvent } from "../consent-event";
import { consentEvents } from "./d1-schema";
import { toConsentEvent } from "./event-record";

export interface IndexQuery {
  topic?: string;
  type?: string;
  /** ISO 8601 UTC instants with four-digit years, the form created_at is stored in, so text order is time order. */
  since?: string;
  until?: string;
  limit: number;
  /** The position of the last event of the previous page. */
  after?: number;
}

/**
 * One page of an organization's events across identifiers, in the order they landed in D1
 * (keyset-paginated by position). An event that lands late, after a D1 outage, still comes after
 * any cursor handed out before: a poller never skips it.
 */
export async function queryIndex(db: D1Database, organizationId: string, query: IndexQuery): Promise<{ events: ConsentEvent[]; last?: number; next: boolean }> {
  const t = consentEvents;
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
        query.after === undefined ? undefined : gt(t.position, query.after),
      ),
    )
    .orderBy(asc(t.position))
    // One more than asked tells whether there is a next page.
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { events: page.map((row) => toConsentEvent(row, row)), ...(last ? { last: last.position } : {}), next: rows.length > query.limit };
}
