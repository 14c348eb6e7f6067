import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "./app-env";

/** Where an org-wide read answers its D1 session's bookmark, and where a client hands it back (README "Scaling"). */
export const BOOKMARK_HEADER = "D1-Bookmark";

/** D1's bookmark format: a position in the database's history, four hex fields. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/i;

const Bookmark = z.string().regex(BOOKMARK, `must be a bookmark this API answered in ${BOOKMARK_HEADER}`).openapi({
  description:
    "A D1 session bookmark, as a previous read answered it: this read then sees at least everything that one saw, on whichever replica serves it. " +
    "Without it, the nearest replica answers, which may trail the primary.",
  example: "00000000-00000009-00000000-00000000000000000000000000000000",
});

/** The request header of an org-wide read: a route declares it (`request.headers`), which refuses a malformed one with a 400. */
export const BookmarkHeaders = z.object({ [BOOKMARK_HEADER]: Bookmark.optional().openapi({ param: { name: BOOKMARK_HEADER, in: "header" } }) });

/** The response header of an org-wide read, for its 200's `headers`. */
export const bookmarkAnswered = {
  [BOOKMARK_HEADER]: { description: "The read's D1 session bookmark: send it back as D1-Bookmark to read at least what this read saw", schema: { type: "string" as const } },
};

/**
 * Runs an org-wide read in a D1 session: from the bookmark the client sent (validated by the
 * route's BookmarkHeaders), else on any replica; the session's bookmark is then answered.
 */
export async function inSession<T>(c: Context<AppEnv>, read: (db: D1DatabaseSession) => Promise<T>): Promise<T> {
  const db = c.env.DB.withSession(c.req.header(BOOKMARK_HEADER) ?? "first-unconstrained");
  const result = await read(db);
  const bookmark = db.getBookmark();
  if (bookmark) c.header(BOOKMARK_HEADER, bookmark);
  return result;
}
