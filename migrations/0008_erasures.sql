-- One row per erasure of an identifier's history (DELETE /v1/consent/{identifier}): the keyed
-- identifier hash only, never the identifier. The erasure that writes it deletes the person's rows
-- in the same transaction; afterwards the feed consumer refuses events of that generation (late
-- messages still queued), and an event of the next generation is taken only once it is here.
CREATE TABLE consent_erasures (
  organization_id TEXT NOT NULL,
  identifier_hash TEXT NOT NULL,
  generation INTEGER NOT NULL,
  erased_at TEXT NOT NULL,
  PRIMARY KEY (organization_id, identifier_hash, generation)
) WITHOUT ROWID;
