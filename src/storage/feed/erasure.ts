/**
 * An erasure's side in the feed (D1): the person's rows go and the erasure's tombstone comes, in
 * one transaction. The deletes run only while the tombstone is absent, so a retry after a success
 * (the ledger crashed before noting it) cannot delete the next generation's rows.
 */

/** What the feed must erase: the history's keyed hash, every spelling of the identifier its rows may carry, and the generation erased. */
export interface FeedErasure {
  organizationId: string;
  identifierHash: string;
  identifiers: string[];
  generation: number;
  erasedAt: string;
}

const NOT_YET_ERASED = "NOT EXISTS (SELECT 1 FROM consent_erasures WHERE organization_id = ?1 AND identifier_hash = ?2 AND generation >= ?4)";

export async function eraseFromFeed(db: D1Database, { organizationId, identifierHash, identifiers, generation, erasedAt }: FeedErasure): Promise<void> {
  const args = [organizationId, identifierHash, JSON.stringify(identifiers), generation] as const;
  await db.batch([
    // Rows fed before the chain have no identifier hash: they are found by the identifier's spellings.
    db
      .prepare(`DELETE FROM consent_events WHERE organization_id = ?1 AND (identifier_hash = ?2 OR identifier IN (SELECT value FROM json_each(?3))) AND ${NOT_YET_ERASED}`)
      .bind(...args),
    db.prepare(`DELETE FROM consent_topics WHERE organization_id = ?1 AND identifier IN (SELECT value FROM json_each(?3)) AND ${NOT_YET_ERASED}`).bind(...args),
    db.prepare("INSERT OR IGNORE INTO consent_erasures (organization_id, identifier_hash, generation, erased_at) VALUES (?, ?, ?, ?)").bind(organizationId, identifierHash, generation, erasedAt),
  ]);
}
