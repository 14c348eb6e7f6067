-- The audience (README "Audience"): per organization, topic and identifier, the latest decision
-- (OPT_IN, DOUBLE_OPT_IN or OPT_OUT) and the latest DOUBLE_OPT_IN_REQUESTED the feed holds, and the
-- status they give by the rules of state (lifespans are applied when read). The feed consumer
-- keeps it in the same transaction as the events; rows from before are filled in here.
CREATE TABLE consent_topics (
  organization_id TEXT NOT NULL,
  topic           TEXT NOT NULL,
  identifier      TEXT NOT NULL,
  decision_seq    INTEGER,
  decision_type   TEXT,
  decision_at     TEXT,
  request_seq     INTEGER,
  request_at      TEXT,
  status          TEXT GENERATED ALWAYS AS (
    CASE
      WHEN decision_type IN ('OPT_IN', 'DOUBLE_OPT_IN') THEN 'granted'
      WHEN request_seq IS NOT NULL AND (decision_seq IS NULL OR request_seq > decision_seq) THEN 'pending'
      ELSE 'withdrawn'
    END) STORED,
  since           TEXT GENERATED ALWAYS AS (
    CASE
      WHEN decision_type IN ('OPT_IN', 'DOUBLE_OPT_IN') THEN decision_at
      WHEN request_seq IS NOT NULL AND (decision_seq IS NULL OR request_seq > decision_seq) THEN request_at
      ELSE decision_at
    END) STORED,
  PRIMARY KEY (organization_id, topic, identifier)
) WITHOUT ROWID; -- the key is the table: a row costs one write, not a row and its key's index
CREATE INDEX consent_topics_by_status ON consent_topics (organization_id, topic, status, identifier);
INSERT INTO consent_topics (organization_id, topic, identifier, decision_seq, decision_type, decision_at, request_seq, request_at)
  SELECT t.organization_id, t.topic, t.identifier, d.sequence, d.type, d.created_at, r.sequence, r.created_at
  FROM (SELECT DISTINCT organization_id, topic, identifier FROM consent_events) t
  LEFT JOIN consent_events d ON d.position = (
    SELECT position FROM consent_events WHERE organization_id = t.organization_id AND identifier = t.identifier AND topic = t.topic
      AND type IN ('OPT_IN', 'DOUBLE_OPT_IN', 'OPT_OUT') ORDER BY sequence DESC LIMIT 1)
  LEFT JOIN consent_events r ON r.position = (
    SELECT position FROM consent_events WHERE organization_id = t.organization_id AND identifier = t.identifier AND topic = t.topic
      AND type = 'DOUBLE_OPT_IN_REQUESTED' ORDER BY sequence DESC LIMIT 1);
