import { index, integer, sqliteTable, text, unique, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The feed: the organization-wide table of consent events, fed from each identifier's outbox
 * through the feed queue (migrations/). The Durable Object stays the source of truth; this table
 * answers queries across identifiers.
 */
export const consentEvents = sqliteTable(
  "consent_events",
  {
    /** Where the row landed in D1, across organizations: assigned on insert, only grows. */
    position: integer("position").primaryKey({ autoIncrement: true }),
    /** Where the row landed in its organization's feed: 1, 2, 3, … (the consumer assigns it). The feed pages by it. */
    feedPosition: integer("feed_position").notNull(),
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
    // The chain, as the ledger computed it (migration 0005; NULL on rows from before until re-sent).
    identifierHash: text("identifier_hash"),
    hash: text("hash"),
    prevHash: text("prev_hash"),
    commitments: text("commitments"),
    proof: text("proof"),
    /** When it happened by its sender's clock, ISO 8601 (migration 0007); NULL when not said. */
    occurredAt: text("occurred_at"),
  },
  (t) => [
    // Makes feeding idempotent: a redelivered event is ignored.
    unique().on(t.organizationId, t.identifier, t.sequence),
    uniqueIndex("consent_events_by_feed_position").on(t.organizationId, t.feedPosition),
    index("consent_events_by_type_feed_position").on(t.organizationId, t.type, t.feedPosition),
    index("consent_events_by_topic_feed_position").on(t.organizationId, t.topic, t.feedPosition),
    index("consent_events_by_time").on(t.organizationId, t.createdAt),
  ],
);
