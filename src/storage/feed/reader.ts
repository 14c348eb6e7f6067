import { and, asc, eq, gt, gte, lt, lte, max, sql } from "drizzle-orm";
import type { ConsentEvent } from "../../consent-event";
import { consentEvents, consentTopics } from "../d1-schema";
import { toConsentEvent, type EventRecord } from "../event-record";
import { orm, type D1Reader } from "../d1-reader";


/** Where a poller stands: after a feed position of its organization, or (a cursor from before migration 0004) after a global position. */
export type FeedCursor = { feedPosition: number } | { position: number };

export interface FeedQuery {
  topic?: string;
  type?: string;
  /** ISO 8601 UTC instants with four-digit years, the form created_at is stored in, so text order is time order. */
  since?: string;
  until?: string;
  limit: number;
  after?: FeedCursor;
}

/**
 * One page of an organization's feed: its events across identifiers, in the order they landed in
 * D1 (keyset-paginated by the organization's feed position). An event that lands late, after a D1
 * outage, still comes after any cursor handed out before: a poller never skips it.
 */
export async function readFeed(db: D1Reader, organizationId: string, query: FeedQuery): Promise<{ events: ConsentEvent[]; last?: number; next: boolean }> {
  const t = consentEvents;
  const feed = orm(db);
  const after = query.after;
  const afterPosition =
    after === undefined
      ? undefined
      : "feedPosition" in after
        ? after.feedPosition
        : feed
            .select({ through: sql<number>`coalesce(${max(t.feedPosition)}, 0)` })
            .from(t)
            .where(and(eq(t.organizationId, organizationId), lte(t.position, after.position)));
  const rows = await feed
    .select()
    .from(t)
    .where(
      and(
        eq(t.organizationId, organizationId),
        query.topic === undefined ? undefined : eq(t.topic, query.topic),
        query.type === undefined ? undefined : eq(t.type, query.type),
        query.since === undefined ? undefined : gte(t.createdAt, query.since),
        query.until === undefined ? undefined : lt(t.createdAt, query.until),
        afterPosition === undefined ? undefined : gt(t.feedPosition, afterPosition),
      ),
    )
    .orderBy(asc(t.feedPosition))
    // One more than asked tells whether there is a next page.
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { events: page.map((row) => toConsentEvent(row, row)), ...(last ? { last: last.feedPosition } : {}), next: rows.length > query.limit };
}

/** One identifier's rows in the feed, oldest first, as the consumer wrote them (to check them against its ledger). */
export async function feedHistory(db: D1Database, organizationId: string, identifier: string): Promise<EventRecord[]> {
  const t = consentEvents;
  return orm(db)
    .select({
      sequence: t.sequence,
      type: t.type,
      topic: t.topic,
      source: t.source,
      meta: t.meta,
      createdAt: t.createdAt,
      occurredAt: t.occurredAt,
      hash: t.hash,
      prevHash: t.prevHash,
      commitments: t.commitments,
      proof: t.proof,
    })
    .from(t)
    .where(and(eq(t.organizationId, organizationId), eq(t.identifier, identifier)))
    .orderBy(asc(t.sequence));
}

export interface AudienceQuery {
  topic: string;
  status: "granted" | "pending" | "withdrawn";
  /** Only deciding events recorded after this instant (a topic's lifespan, for granted). */
  sinceAfter?: string;
  limit: number;
  /** The last identifier of the previous page. */
  after?: string;
}

/** One page of the identifiers with `status` on `topic`, in identifier order. */
export async function readAudience(db: D1Reader, organizationId: string, query: AudienceQuery): Promise<{ identifiers: { identifier: string; since: string }[]; next: boolean }> {
  const t = consentTopics;
  const rows = await orm(db)
    .select({ identifier: t.identifier, since: t.since })
    .from(t)
    .where(
      and(
        eq(t.organizationId, organizationId),
        eq(t.topic, query.topic),
        eq(t.status, query.status),
        query.sinceAfter === undefined ? undefined : gt(t.since, query.sinceAfter),
        query.after === undefined ? undefined : gt(t.identifier, query.after),
      ),
    )
    .orderBy(asc(t.identifier))
    .limit(query.limit + 1);
  return { identifiers: rows.slice(0, query.limit).map((r) => ({ identifier: r.identifier, since: r.since! })), next: rows.length > query.limit };
}
