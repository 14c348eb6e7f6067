import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { consentEvents, type ConsentEventRow } from "./d1-schema";

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

export interface IndexQuery {
  topic?: string;
  type?: string;
  /** ISO 8601 instants, compared as UTC strings (how created_at is stored). */
  since?: string;
  until?: string;
  limit: number;
  after?: { createdAt: string; identifier: string; sequence: number };
}

/** One page of an organization's events across identifiers, oldest first (keyset-paginated). */
export async function queryIndex(db: D1Database, organizationId: string, query: IndexQuery): Promise<ConsentEventRow[]> {
  const t = consentEvents;
  const after = query.after;
  return drizzle(db)
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
    .limit(query.limit);
}
