-- The feed pages by where a row landed, not by when its event happened: an event can reach D1
-- minutes after its created_at (a D1 outage, a queue retry), and a poller whose cursor is past
-- that time must still see it. `position` is assigned by D1 on insert and only grows.
CREATE TABLE consent_events_v2 (
  position        INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO consent_events_v2 (organization_id, identifier, sequence, type, topic, source, meta, created_at)
  SELECT organization_id, identifier, sequence, type, topic, source, meta, created_at
  FROM consent_events ORDER BY created_at, identifier, sequence;
DROP TABLE consent_events;
ALTER TABLE consent_events_v2 RENAME TO consent_events;
CREATE INDEX consent_events_by_position ON consent_events (organization_id, position);
CREATE INDEX consent_events_by_topic_position ON consent_events (organization_id, topic, position);
