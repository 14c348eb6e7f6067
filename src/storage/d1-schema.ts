import { index, integer, sqliteTable, text, unique } from "drizzle-orm/sqlite-core";

/**
 * The organization-wide index of consent events, fed from each identifier's outbox through the
 * index queue (migrations/). The Durable Object stays the source of truth; this table answers
 * queries across identifiers.
 */
export const consentEvents = sqliteTable(
  "consent_events",
  {
    /** Where the row landed in D1: assigned on insert, only grows. The feed pages by it. */
    position: integer("position").primaryKey({ autoIncrement: true }),
    organizationId: text("organization_id").notNull(),
    identifier: text("identifier").notNull(),
    sequence: integer("sequence").notNull(),
    type: text("type").notNull(),
    topic: text("topic").notNull(),
    source: text("source"),
    /** JSON text of the event's meta object, or NULL. */
    meta: text("meta"),
    /** ISO 8601 UTC with milliseconds and a four-digit year: sorts lexically in time order. */
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    // Makes indexing idempotent: a redelivered event is ignored.
    unique().on(t.organizationId, t.identifier, t.sequence),
    index("consent_events_by_position").on(t.organizationId, t.position),
    index("consent_events_by_topic_position").on(t.organizationId, t.topic, t.position),
    index("consent_events_by_time").on(t.organizationId, t.createdAt),
  ],
);
