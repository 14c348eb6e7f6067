/**
 * What the webhook queue carries: one message per (event, endpoint), holding nothing personal for
 * a consent event (the delivery reads the event from D1 when it sends it, so an erasure in between
 * leaves nothing behind in the queue). An erasure notice carries the erased identifier: telling
 * the systems behind the gateway whom to erase is its purpose.
 */
/** The erasure notice's type, which an endpoint's types filter may name beside the consent event types. */
export const ERASED_TYPE = "consent.erased";

export type WebhookMessage = {
  organizationId: string;
  endpointId: string;
  /** The webhook-id header: the same on every attempt, so receivers de-duplicate. */
  webhookId: string;
} & (
  | {
      type: "consent.event";
      /** Where the event is in its organization's feed (consent_events.feed_position). */
      feedPosition: number;
      seq: number;
      hash: string | null;
      eventType: string;
      topic: string;
      createdAt: string;
    }
  | { type: typeof ERASED_TYPE; identifier: string; erasedAt: string }
);

/** The queue whose batches are webhook deliveries (wrangler.toml); the worker's queue handler sends it and `<it>-dlq` to the delivery consumer. */
export const WEBHOOK_QUEUE_NAME = "consent-webhooks";

/**
 * Seconds to wait after each failed attempt: the first retries within seconds, then growing; the
 * last attempt comes about 34.6 hours after the first. Each is within Queues' 24-hour delaySeconds
 * limit, and wrangler.toml's max_retries is this list's length (at most 100), so after the last
 * attempt the queue moves the message to the dead-letter queue.
 */
export const RETRY_DELAYS_SECONDS = [2, 10, 60, 300, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 12 * 3600] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** A new webhook-id. */
export const newWebhookId = () => `msg_${crypto.randomUUID().replaceAll("-", "")}`;
