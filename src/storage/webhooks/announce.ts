import { errorFields, log } from "../../log";
import type { FeedEntry } from "../event-record";
import { endpointsOf, filterValues } from "./endpoints";
import { ERASED_TYPE, newWebhookId, type WebhookMessage } from "./messages";

const QUEUE_BATCH = 100; // Queues' sendBatch limit

async function enqueue(env: Env, messages: WebhookMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += QUEUE_BATCH) {
    await env.WEBHOOK_QUEUE.sendBatch(messages.slice(i, i + QUEUE_BATCH).map((body) => ({ body, contentType: "json" })));
  }
}

const admits = (filter: string | null, value: string) => filterValues(filter)?.includes(value) ?? true;

/** The highest position before a write: a row above it was inserted by the write, not merely given its chain columns. */
const TOP = "SELECT COALESCE(MAX(position), 0) AS top FROM consent_events";

/**
 * What a feed batch's write must do for webhooks, read before it (one D1 read of the endpoints of
 * the batch's organizations): which events an endpoint wants (their inserts then return their
 * positions), and the statement that comes first. A batch no endpoint wants costs its write nothing.
 */
export interface WebhookPlan {
  /** Run first in the write's batch: none when no event is wanted. */
  lead: D1PreparedStatement[];
  wants(entry: FeedEntry): boolean;
  /**
   * Queues a delivery of each event the write really inserted to each endpoint that wants it:
   * not a redelivery, not the chain back-fill of an old row. `leadResults` and `inserts` are the
   * write's results of `lead` and of each entry's insert (which returns position and feed_position
   * when wanted). A failure is logged, not thrown: the rows are written, and a retry of the feed
   * batch would not announce them again.
   */
  announce(env: Env, leadResults: D1Result[], inserts: D1Result[], entries: FeedEntry[]): Promise<void>;
}

type Endpoint = Awaited<ReturnType<typeof endpointsOf>>[number];

export async function planWebhooks(env: Env, db: D1Database, entries: FeedEntry[]): Promise<WebhookPlan> {
  let endpoints: Endpoint[] = [];
  try {
    endpoints = entries.length ? await endpointsOf(db, [...new Set(entries.map((e) => e.organizationId))]) : [];
  } catch (error) {
    log(env, "error", "webhooks of a feed batch could not be queued", { events: entries.length, ...errorFields(error) });
  }
  const targets = (entry: FeedEntry) =>
    endpoints.filter((endpoint) => endpoint.organizationId === entry.organizationId && admits(endpoint.topics, entry.topic) && admits(endpoint.types, entry.type));
  const wanted = new Set(entries.filter((entry) => targets(entry).length > 0));
  return {
    lead: wanted.size ? [db.prepare(TOP)] : [],
    wants: (entry) => wanted.has(entry),
    async announce(env, leadResults, inserts, list) {
      if (!wanted.size) return;
      const top = (leadResults[0]!.results[0] as { top: number }).top;
      const messages = list.flatMap((entry, i) =>
        (inserts[i]!.results as { position: number; feed_position: number }[])
          .filter((row) => wanted.has(entry) && row.position > top)
          .flatMap((row) =>
            targets(entry).map(
              (endpoint): WebhookMessage => ({
                type: "consent.event",
                organizationId: entry.organizationId,
                endpointId: endpoint.id,
                webhookId: newWebhookId(),
                feedPosition: row.feed_position,
                seq: entry.sequence,
                hash: entry.hash,
                eventType: entry.type,
                topic: entry.topic,
                createdAt: entry.createdAt,
              }),
            ),
          ),
      );
      try {
        await enqueue(env, messages);
      } catch (error) {
        log(env, "error", "webhooks of a feed batch could not be queued", { events: list.length, ...errorFields(error) });
      }
    },
  };
}

/**
 * Queues `{type: "consent.erased", data: {identifier, erased_at}}` to every endpoint of the
 * organization (topics do not filter it, since an erasure spans them all; an endpoint that lists
 * types gets it only if they include consent.erased). Throws if it could not be queued, so the
 * caller's erasure can report or retry it.
 */
export async function announceErasure(env: Env, organizationId: string, erasure: { identifier: string; erased_at: string }, db: D1Database = env.DB): Promise<void> {
  const endpoints = await endpointsOf(db, [organizationId]);
  await enqueue(
    env,
    endpoints
      .filter((endpoint) => admits(endpoint.types, ERASED_TYPE))
      .map((endpoint) => ({ type: ERASED_TYPE, organizationId, endpointId: endpoint.id, webhookId: newWebhookId(), identifier: erasure.identifier, erasedAt: erasure.erased_at })),
  );
}
