import { errorFields, log } from "../../log";
import type { FeedEntry } from "../event-record";
import { endpointsOf, filterValues } from "./endpoints";
import { ERASED_TYPE, newWebhookId, type WebhookMessage } from "./messages";

/** An event the feed consumer has just inserted, and where it landed in its organization's feed. */
export interface InsertedEvent {
  entry: FeedEntry;
  feedPosition: number;
}

const QUEUE_BATCH = 100; // Queues' sendBatch limit

async function enqueue(env: Env, messages: WebhookMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += QUEUE_BATCH) {
    await env.WEBHOOK_QUEUE.sendBatch(messages.slice(i, i + QUEUE_BATCH).map((body) => ({ body, contentType: "json" })));
  }
}

const admits = (filter: string | null, value: string) => filterValues(filter)?.includes(value) ?? true;

/**
 * Queues a delivery of each newly inserted event to every endpoint of its organization whose
 * topics and types admit it: one D1 read for the whole batch. A failure is logged, not thrown: the
 * feed's rows are written, and a retry of the feed batch would not announce them again.
 */
export async function announceEvents(env: Env, db: D1Database, inserted: InsertedEvent[]): Promise<void> {
  if (inserted.length === 0) return;
  try {
    const endpoints = await endpointsOf(db, [...new Set(inserted.map((e) => e.entry.organizationId))]);
    const messages = inserted.flatMap(({ entry, feedPosition }) =>
      endpoints
        .filter((endpoint) => endpoint.organizationId === entry.organizationId && admits(endpoint.topics, entry.topic) && admits(endpoint.types, entry.type))
        .map(
          (endpoint): WebhookMessage => ({
            type: "consent.event",
            organizationId: entry.organizationId,
            endpointId: endpoint.id,
            webhookId: newWebhookId(),
            feedPosition,
            seq: entry.sequence,
            hash: entry.hash,
            eventType: entry.type,
            topic: entry.topic,
            createdAt: entry.createdAt,
          }),
        ),
    );
    await enqueue(env, messages);
  } catch (error) {
    log(env, "error", "webhooks of a feed batch could not be queued", { events: inserted.length, ...errorFields(error) });
  }
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
