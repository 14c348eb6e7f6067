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
