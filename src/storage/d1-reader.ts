import { drizzle } from "drizzle-orm/d1";

/**
 * What an org-wide read takes: the database, or a D1 session of it (the HTTP layer opens one from
 * the client's D1-Bookmark, so a read near the caller still sees the caller's own writes).
 */
export type D1Reader = D1Database | D1DatabaseSession;

/** drizzle over a database or a session: it uses only `prepare` and `batch`, which a session has too. */
export const orm = (db: D1Reader) => drizzle(db as D1Database);
