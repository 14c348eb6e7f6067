-- When an event happened by its sender's clock (a Copilot Collect event's timestamp, ISO 8601),
-- beside the gateway's created_at. NULL for every event whose sender did not say, and for all
-- rows from before.
ALTER TABLE consent_events ADD COLUMN occurred_at TEXT;
