import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The organization-wide index of consent events, fed from each identifier's outbox.
 * The Durable Object stays the source of truth; this table answers queries across identifiers.
 */
export const consentEvents = sqliteTable(
  "consent_events",
  {
    organizationId: text("organization_id").notNull(),
    identifier: text("identifier").notNull(),
    sequence: integer("sequence").notNull(),
    type: text("type").notNull(),
    topic: text("topic").notNull(),
    source: text("source"),
    /** JSON text of the event's meta object, or NULL. */
    meta: text("meta"),
    /** ISO 8601 UTC with milliseconds: sorts lexically in time order. */
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    // Unique key: makes the outbox flush idempotent.
    primaryKey({ columns: [t.organizationId, t.identifier, t.sequence] }),
    index("consent_events_by_identifier_topic").on(t.organizationId, t.identifier, t.topic, t.sequence),
    index("consent_events_by_topic_time").on(t.organizationId, t.topic, t.createdAt),
    index("consent_events_by_time").on(t.organizationId, t.createdAt),
  ],
);

export type ConsentEventRow = typeof consentEvents.$inferSelect;
