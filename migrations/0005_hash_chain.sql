-- The hash chain (README "Tamper-evident history"): each row carries its link, the previous link,
-- the identifier's keyed hash, the keyed commitments to its personal fields and how it was
-- recorded, as its ledger computed them. Rows stored before are filled in when their ledgers
-- (migrated to the chain) send them again.
ALTER TABLE consent_events ADD COLUMN identifier_hash TEXT;
ALTER TABLE consent_events ADD COLUMN hash TEXT;
ALTER TABLE consent_events ADD COLUMN prev_hash TEXT;
ALTER TABLE consent_events ADD COLUMN commitments TEXT;
ALTER TABLE consent_events ADD COLUMN proof TEXT;
