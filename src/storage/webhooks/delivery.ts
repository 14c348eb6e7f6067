import { and, eq, inArray, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Webhook } from "standardwebhooks";
import { errorFields, log } from "../../log";
import { consentEvents, webhookDeliveries, webhookEndpoints } from "../d1-schema";
import { toConsentEvent } from "../event-record";
import type { DeliveryRow, EndpointRow } from "./endpoints";
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS, type WebhookMessage } from "./messages";
import { openSecret } from "./secrets";

/** How long an endpoint has to answer, as Standard Webhooks suggests (a slow endpoint is retried, not waited for). */
const TIMEOUT_MS = 10_000;
const KEEP_ATTEMPTS_MS = 30 * 24 * 60 * 60 * 1000;

type Outcome = Pick<DeliveryRow, "status" | "responseStatus" | "error">;

/** The endpoint's secrets that sign now: the current one, and the previous one until it expires. */
async function signingSecrets(env: Env, endpoint: EndpointRow, now: Date): Promise<string[]> {
  const previous = endpoint.previousSecret && endpoint.previousExpiresAt && endpoint.previousExpiresAt > now.toISOString() ? endpoint.previousSecret : undefined;
  return Promise.all([endpoint.secret, ...(previous ? [previous] : [])].map((sealed) => openSecret(env, endpoint.id, sealed)));
}

/** POSTs a signed payload (Standard Webhooks: one `v1,<signature>` per secret, space-separated); answers how it went. */
async function post(env: Env, send: typeof fetch, endpoint: EndpointRow, webhookId: string, payload: string): Promise<Omit<Outcome, "status"> & { ok: boolean }> {
  const now = new Date();
  const signature = (await signingSecrets(env, endpoint, now)).map((secret) => new Webhook(secret).sign(webhookId, now, payload)).join(" ");
  try {
    const response = await send(endpoint.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "consent-gateway-webhooks",
        "webhook-id": webhookId,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: payload,
      // A redirect could lead anywhere (a private address): it counts as a failure.
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    return { ok: response.status >= 200 && response.status < 300, responseStatus: response.status, error: null };
  } catch (error) {
    return { ok: false, responseStatus: null, error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error).slice(0, 500) };
  }
}

/**
 * The webhook queue's consumer: per batch, one D1 read (the endpoints, and each consent event as
 * D1 holds it now), the POSTs in parallel, one D1 write (every attempt, and the pruning of
 * attempts older than 30 days); then each message is acknowledged, or retried after its delay
 * (RETRY_DELAYS_SECONDS), or after the last attempt left to the queue's dead-letter queue. A
 * message for a deleted endpoint is dropped; a consent event whose row is gone (its person was
 * erased) is not delivered, and its attempt is recorded as dropped.
 */
export async function consumeWebhookBatch(batch: MessageBatch<WebhookMessage>, env: Env, send: typeof fetch = fetch, db: D1Database = env.DB): Promise<void> {
  const orm = drizzle(db);
  const messages = batch.messages;
  const events = messages.flatMap(({ body }) => (body.type === "consent.event" ? [body] : []));
  const [endpointRows, ...eventRows] = await orm.batch([
    orm
      .select()
      .from(webhookEndpoints)
      .where(inArray(webhookEndpoints.id, [...new Set(messages.map((m) => m.body.endpointId))])),
    ...events.map((body) =>
      orm
        .select()
        .from(consentEvents)
        .where(and(eq(consentEvents.organizationId, body.organizationId), eq(consentEvents.feedPosition, body.feedPosition))),
    ),
  ]);
  const stored = new Map(events.map((body, i) => [body, eventRows[i]![0]]));
  const endpoints = new Map(endpointRows.map((row) => [row.id, row]));
  const attemptedAt = new Date().toISOString();

  const outcomes = await Promise.all(
    messages.map(async (message): Promise<Outcome | undefined> => {
      const body = message.body;
      const endpoint = endpoints.get(body.endpointId);
      if (!endpoint || endpoint.organizationId !== body.organizationId) return undefined;
      let payload: string;
      if (body.type === "consent.event") {
        const row = stored.get(body);
        // The row must be the event the message names (erased, it is gone; its position is not reused otherwise).
        if (!row || row.sequence !== body.seq || row.hash !== body.hash) return { status: "dropped", responseStatus: null, error: "the event was erased before delivery" };
        payload = JSON.stringify({ type: body.type, timestamp: row.createdAt, data: toConsentEvent(row, row) });
      } else {
        payload = JSON.stringify({ type: body.type, timestamp: body.erasedAt, data: { identifier: body.identifier, erased_at: body.erasedAt } });
      }
      const { ok, ...result } = await post(env, send, endpoint, body.webhookId, payload);
      return { ...result, status: ok ? "delivered" : message.attempts >= MAX_ATTEMPTS ? "failed" : "retrying" };
    }),
  );

  const attempts = messages.flatMap((message, i) => {
    const outcome = outcomes[i];
    return outcome
      ? [{ endpointId: message.body.endpointId, organizationId: message.body.organizationId, webhookId: message.body.webhookId, type: message.body.type, attempt: message.attempts, attemptedAt, ...outcome }]
      : [];
  });
  try {
    await orm.batch([
      orm.delete(webhookDeliveries).where(lt(webhookDeliveries.attemptedAt, new Date(Date.now() - KEEP_ATTEMPTS_MS).toISOString())),
      // One statement per attempt: D1 binds at most 100 values per statement.
      ...attempts.map((attempt) => orm.insert(webhookDeliveries).values(attempt)),
    ]);
  } catch (error) {
    // The deliveries happened; only their log is missing.
    log(env, "warn", "webhook attempts could not be recorded", { attempts: attempts.length, ...errorFields(error) });
  }

  messages.forEach((message, i) => {
    const status = outcomes[i]?.status;
    if (status === "retrying") message.retry({ delaySeconds: RETRY_DELAYS_SECONDS[message.attempts - 1]! });
    else if (status === "failed") {
      log(env, "warn", "a webhook failed its last attempt; it goes to the dead-letter queue", { endpoint: message.body.endpointId, webhook_id: message.body.webhookId, attempts: message.attempts });
      // Past max_retries (wrangler.toml), a retry moves the message to the dead-letter queue.
      message.retry();
    } else message.ack();
  });
}
