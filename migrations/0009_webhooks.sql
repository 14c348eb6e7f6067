-- Webhooks (README "Webhooks"): an organization's endpoints, and each attempt to deliver to them.
-- Signing secrets are stored encrypted (AES-256-GCM under a key derived from IDENTIFIER_KEY); the
-- previous secret, after a rotation, keeps signing beside the new one until previous_expires_at.
CREATE TABLE webhook_endpoints (
  id                  TEXT PRIMARY KEY,
  organization_id     TEXT NOT NULL,
  url                 TEXT NOT NULL,
  description         TEXT,
  -- JSON arrays, or NULL for "all".
  topics              TEXT,
  types               TEXT,
  secret              TEXT NOT NULL,
  previous_secret     TEXT,
  previous_expires_at TEXT,
  created_at          TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_organization ON webhook_endpoints (organization_id, created_at);

-- One row per attempt; kept 30 days (the delivery consumer prunes older ones).
CREATE TABLE webhook_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id     TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  webhook_id      TEXT NOT NULL,
  type            TEXT NOT NULL,
  attempt         INTEGER NOT NULL,
  -- delivered (2xx), retrying (will be tried again), failed (the last attempt: dead-lettered), dropped (the event was erased)
  status          TEXT NOT NULL,
  response_status INTEGER,
  error           TEXT,
  attempted_at    TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (attempted_at);
