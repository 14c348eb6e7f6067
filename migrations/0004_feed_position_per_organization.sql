-- The feed pages by each organization's own position: the global `position` let a cursor's gaps
-- show other organizations' volume. Existing rows are numbered per organization in landing order.
CREATE TABLE consent_events_v3 (
  position        INTEGER PRIMARY KEY AUTOINCREMENT,
  feed_position   INTEGER NOT NULL,
  organization_id TEXT NOT NULL,
  identifier      TEXT NOT NULL,
  sequence        INTEGER NOT NULL,
  type            TEXT NOT NULL,
  topic           TEXT NOT NULL,
  source          TEXT,
  meta            TEXT,
  created_at      TEXT NOT NULL,
  UNIQUE (organization_id, identifier, sequence)
);
INSERT INTO consent_events_v3 (position, feed_position, organization_id, identifier, sequence, type, topic, source, meta, created_at)
  SELECT position, ROW_NUMBER() OVER (PARTITION BY organization_id ORDER BY position), organization_id, identifier, sequence, type, topic, source, meta, created_at
  FROM consent_events;
DROP TABLE consent_events;
ALTER TABLE consent_events_v3 RENAME TO consent_events;
CREATE UNIQUE INDEX consent_events_by_feed_position ON consent_events (organization_id, feed_position);
-- Filtered polls (a rare type, one topic) read only matching rows, not every row since the last match.
CREATE INDEX consent_events_by_type_feed_position ON consent_events (organization_id, type, feed_position);
CREATE INDEX consent_events_by_topic_feed_position ON consent_events (organization_id, topic, feed_position);
CREATE INDEX consent_events_by_time ON consent_events (organization_id, created_at);
