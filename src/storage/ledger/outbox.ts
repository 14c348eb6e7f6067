/**
 * The outbox's safety net: when the events after the watermark are re-sent to the feed queue.
 * An event is first due SAFETY_NET_MS after it was appended (the pipeline normally takes a second
 * or two); each re-send without progress doubles the wait from that send, up to MAX_BACKOFF_MS, so
 * an hour-long D1 outage costs an event about nine re-sends, not a hundred.
 */
export const SAFETY_NET_MS = 30_000;
export const MAX_BACKOFF_MS = 10 * 60_000;
/** Outbox events re-sent per alarm; a longer backlog goes over the following alarms. */
export const RESEND_BATCH = 100;
/** Re-sends in a row without the watermark moving. */
export const RESENDS_KEY = "resend_failures";

/** When to check again after the `resends`-th re-send in a row without progress, sent at `sentAt`. */
export const nextCheck = (sentAt: number, resends: number) => sentAt + Math.min(SAFETY_NET_MS * 2 ** resends, MAX_BACKOFF_MS);
