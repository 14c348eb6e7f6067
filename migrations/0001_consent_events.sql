-- Organization-wide index of consent events (source of truth: one Durable Object per identifier).
CREATE TABLE consent_events (
  organization_id TEXT NOT NULL,
  identifier      TEXT NOT NULL,
  sequence        INTEGER NOT NULL,
  type            TEXT NOT NULL,
  topic           TEXT NOT NULL,
  source          TEXT,
  meta            TEXT,
  created_at      TEXT NOT NULL,
  PRIMARY KEY (organization_id, identifier, sequence)
);
CREATE INDEX consent_events_by_identifier_topic ON consent_events (organization_id, identifier, topic, sequence);
CREATE INDEX consent_events_by_topic_time ON consent_events (organization_id, topic, created_at);
CREATE INDEX consent_events_by_time ON consent_events (organization_id, created_at);
