-- The feed's since/until filters: without this, a query for last week walks the organization's
-- whole history in position order.
CREATE INDEX consent_events_by_time ON consent_events (organization_id, created_at);
