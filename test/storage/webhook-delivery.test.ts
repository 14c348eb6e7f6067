import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
// @ts-expect-error Vite imports any file as text with ?raw; TypeScript has no type for it.
import wranglerToml from "../../wrangler.toml?raw";
import type { Principal } from "../../src/auth/principal";
import { listOrganizationEvents } from "../../src/consent/service";
import type { FeedEntry } from "../../src/storage/event-record";
import worker from "../../src/index";
import { consumeFeedBatch } from "../../src/storage/feed/consumer";
import { announceErasure } from "../../src/storage/webhooks/announce";
import { consumeWebhookBatch } from "../../src/storage/webhooks/delivery";
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS, WEBHOOK_QUEUE_NAME, type WebhookMessage } from "../../src/storage/webhooks/messages";
import { createWebhook, listWebhookDeliveries, rotateWebhookSecret } from "../../src/webhooks/service";
import { captureConsole } from "../helpers/console";
import { uniqueEmail } from "../helpers/gateway";
import { batchOf, capturingQueue, ledgerOf } from "../helpers/ledger";

/** A fresh organization per test: no other test's endpoints or events. */
const organization = (): Principal => ({ organizationId: `org-wh-${crypto.randomUUID()}`, scopes: new Set(["webhooks:manage"]), subject: "test", scheme: "basic" });

/** A queue that keeps what is sent to it instead of delivering it. */
function webhookQueue() {
  const { sent, binding } = capturingQueue<WebhookMessage>();
  return { sent, env: { ...env, WEBHOOK_QUEUE: binding } as Env };
}

/** Feed entries of one person's events, as the ledger would send them (a real ledger, so the consumer's acknowledgements land). */
async function entries(principal: Principal, events: { type: string; topic: string; meta?: object }[], identifier = uniqueEmail("hooked")): Promise<FeedEntry[]> {
  const { key, id } = ledgerOf(principal.organizationId, identifier);
  return events.map((event, n) => ({
    organizationId: key.organizationId,
    identifier: key.identifier,
    identifierHash: key.identifierHash,
    ledger: id.toString(),
    sequence: n + 1,
    type: event.type,
    topic: event.topic,
    source: "signup-form",
    meta: event.meta ? JSON.stringify(event.meta) : null,
    createdAt: new Date(Date.now() + n).toISOString(),
    occurredAt: null,
    hash: (n + 1).toString(16).padStart(64, "0"),
    prevHash: n === 0 ? null : n.toString(16).padStart(64, "0"),
    commitments: null,
    proof: null,
  }));
}

/** Feeds entries through the real feed consumer, capturing the webhook messages it queues. */
async function feed(list: FeedEntry[], queue = webhookQueue()) {
  await consumeFeedBatch(batchOf(list), queue.env);
  return queue.sent;
}

interface Received {
  request: Request;
  body: string;
}

/** An endpoint's answers, in turn (the last repeats): what a receiver would say; keeps what it was sent. */
function receiver(...statuses: number[]) {
  const received: Received[] = [];
  const send = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    received.push({ request, body: await request.text() });
    return new Response(null, { status: statuses[Math.min(received.length - 1, statuses.length - 1)] });
  }) as typeof fetch;
  return { received, send };
}

/**
 * Runs the webhook consumer on `messages` as one delivery after `attempts` attempts. The batch's
 * messages are the real ones, wrapped to keep the delay each retry asks for (which the queue
 * result does not report).
 */
async function deliver(messages: WebhookMessage[], send: typeof fetch, attempts = 1) {
  const batch = createMessageBatch<WebhookMessage>(
    WEBHOOK_QUEUE_NAME,
    messages.map((body, i) => ({ id: `w${i}-${body.webhookId}`, timestamp: new Date(), attempts, body })),
  );
  const delays: (number | undefined)[] = [];
  const observed = {
    queue: batch.queue,
    messages: batch.messages.map((message) =>
      Object.assign(Object.create(message) as Message<WebhookMessage>, {
        retry: (options?: QueueRetryOptions) => {
          delays.push(options?.delaySeconds);
          message.retry(options);
        },
        ack: () => message.ack(),
      }),
    ),
  } as unknown as MessageBatch<WebhookMessage>;
  const ctx = createExecutionContext();
  await consumeWebhookBatch(observed, env, send);
  return { ...(await getQueueResult(batch, ctx)), delays };
}

const headersOf = (request: Request) => Object.fromEntries(request.headers);

describe("which endpoints get an event", () => {
  it("each endpoint of the event's organization whose topics and types admit it; no other organization's; nothing personal in the queue", async () => {
    const acme = organization();
    const other = organization();
    const all = await createWebhook(env, acme, { url: "https://all.example.com/" });
    const news = await createWebhook(env, acme, { url: "https://news.example.com/", topics: ["NEWSLETTER"] });
    const outs = await createWebhook(env, acme, { url: "https://outs.example.com/", types: ["OPT_OUT"] });
    await createWebhook(env, other, { url: "https://other.example.com/" });
    const sent = await feed(await entries(acme, [{ type: "OPT_IN", topic: "NEWSLETTER", meta: { ip: "1.2.3.4" } }, { type: "OPT_OUT", topic: "SMS" }]));
    expect(sent.map((m) => [m.endpointId, m.type === "consent.event" && m.seq])).toEqual([
      [all.id, 1],
      [news.id, 1],
      [all.id, 2],
      [outs.id, 2],
    ]);
    expect(new Set(sent.map((m) => m.webhookId)).size).toBe(4);
    const text = JSON.stringify(sent);
    for (const personal of ["hooked-", "signup-form", "1.2.3.4"]) expect(text).not.toContain(personal);
  });

  it("announces only rows really inserted: not a redelivery, not the chain back-fill of an old row", async () => {
    const acme = organization();
    await createWebhook(env, acme, { url: "https://all.example.com/" });
    const list = await entries(acme, [{ type: "OPT_IN", topic: "T" }, { type: "OPT_IN", topic: "T" }]);
    // The first stored before the chain existed (no hash), as an old deployment's row is.
    const old = { ...list[0]!, hash: null, prevHash: null };
    expect(await feed([old])).toHaveLength(1);
    // Its ledger, migrated to the chain, sends it again with its hash (back-fill), with its successor.
    const sent = await feed(list);
    expect(sent.map((m) => m.type === "consent.event" && m.seq)).toEqual([2]);
    expect(await env.DB.prepare("SELECT hash FROM consent_events WHERE organization_id = ? AND sequence = 1").bind(acme.organizationId).first("hash")).toBe(list[0]!.hash);
    expect(await feed(list)).toEqual([]);
  });

  it("an erasure goes to every endpoint whatever its topics, and to one listing types only if they include consent.erased", async () => {
    const acme = organization();
    const all = await createWebhook(env, acme, { url: "https://all.example.com/", topics: ["NEWSLETTER"] });
    const erasures = await createWebhook(env, acme, { url: "https://erasures.example.com/", types: ["consent.erased"] });
    await createWebhook(env, acme, { url: "https://ins.example.com/", types: ["OPT_IN"] });
    await createWebhook(env, organization(), { url: "https://other.example.com/" });
    const queue = webhookQueue();
    await announceErasure(queue.env, acme.organizationId, { identifier: "gone@example.com", erased_at: "2026-12-01T10:00:00.000Z" });
    expect(queue.sent.map((m) => m.endpointId).sort()).toEqual([all.id, erasures.id].sort());
    const { received, send } = receiver(200);
    await deliver(queue.sent, send);
    expect(received.map((r) => JSON.parse(r.body))).toEqual([
      { type: "consent.erased", timestamp: "2026-12-01T10:00:00.000Z", data: { identifier: "gone@example.com", erased_at: "2026-12-01T10:00:00.000Z" } },
      { type: "consent.erased", timestamp: "2026-12-01T10:00:00.000Z", data: { identifier: "gone@example.com", erased_at: "2026-12-01T10:00:00.000Z" } },
    ]);
  });
});

describe("delivering", () => {
  it("POSTs the event as listOrganizationEvents shows it, signed so that standardwebhooks' verifier accepts it", async () => {
    const acme = organization();
    const endpoint = await createWebhook(env, acme, { url: "https://crm.example.com/hook" });
    const messages = await feed(await entries(acme, [{ type: "OPT_IN", topic: "NEWSLETTER", meta: { form: "footer" } }]));
    const { received, send } = receiver(204);
    const result = await deliver(messages, send);
    expect(result.explicitAcks).toHaveLength(1);
    const [{ request, body }] = received as [Received];
    expect(request.method).toBe("POST");
    expect(request.url).toBe("https://crm.example.com/hook");
    expect(request.headers.get("Content-Type")).toBe("application/json");
    expect(request.headers.get("webhook-id")).toBe(messages[0]!.webhookId);
    expect(new Webhook(endpoint.secret).verify(body, headersOf(request))).toEqual(JSON.parse(body));
    const { events } = await listOrganizationEvents(env.DB, acme, { limit: 10 });
    expect(JSON.parse(body)).toEqual({ type: "consent.event", timestamp: events[0]!.created_at, data: events[0] });
    expect(events[0]).toMatchObject({ seq: 1, hash: expect.any(String), meta: { form: "footer" } });
    // Another secret, or an altered body, does not verify.
    expect(() => new Webhook(`whsec_${btoa("another secret of 32 bytes......")}`).verify(body, headersOf(request))).toThrow();
    expect(() => new Webhook(endpoint.secret).verify(body.replace("NEWSLETTER", "SMS"), headersOf(request))).toThrow();
    expect((await listWebhookDeliveries(env.DB, acme, endpoint.id, 10))!.deliveries).toEqual([
      { webhook_id: messages[0]!.webhookId, type: "consent.event", attempt: 1, status: "delivered", response_status: 204, attempted_at: expect.any(String) },
    ]);
  });

  it("after a rotation signs with both secrets (two signatures), then, once the old one expires, with the new one only", async () => {
    const acme = organization();
    const endpoint = await createWebhook(env, acme, { url: "https://crm.example.com/hook" });
    const rotated = (await rotateWebhookSecret(env, acme, endpoint.id))!;
    const messages = await feed(await entries(acme, [{ type: "OPT_IN", topic: "T" }, { type: "OPT_OUT", topic: "T" }]));
    const { received, send } = receiver(200);
    await deliver([messages[0]!], send);
    const first = received[0]!;
    expect(first.request.headers.get("webhook-signature")!.split(" ")).toHaveLength(2);
    for (const secret of [endpoint.secret, rotated.secret]) expect(() => new Webhook(secret).verify(first.body, headersOf(first.request))).not.toThrow();

    await env.DB.prepare("UPDATE webhook_endpoints SET previous_expires_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), endpoint.id).run();
    await deliver([messages[1]!], send);
    const second = received[1]!;
    expect(second.request.headers.get("webhook-signature")!.split(" ")).toHaveLength(1);
    expect(() => new Webhook(rotated.secret).verify(second.body, headersOf(second.request))).not.toThrow();
    expect(() => new Webhook(endpoint.secret).verify(second.body, headersOf(second.request))).toThrow();
  });

  it("retries a failed attempt with the same webhook-id after a growing delay: seconds first, at least 24 hours in all", async () => {
    const acme = organization();
    const endpoint = await createWebhook(env, acme, { url: "https://crm.example.com/hook" });
    const [message] = await feed(await entries(acme, [{ type: "OPT_IN", topic: "T" }]));
    const { received, send } = receiver(500);
    const delays: (number | undefined)[] = [];
    for (let attempts = 1; attempts < MAX_ATTEMPTS; attempts++) {
      const result = await deliver([message!], send, attempts);
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toHaveLength(1);
      delays.push(...result.delays);
    }
    expect(delays).toEqual([...RETRY_DELAYS_SECONDS]);
    expect(delays[0]).toBeLessThanOrEqual(5);
    expect(delays.every((d, i) => i === 0 || d! >= delays[i - 1]!)).toBe(true);
    expect(delays.reduce((sum, d) => sum! + d!, 0)).toBeGreaterThanOrEqual(24 * 3600);
    expect(new Set(received.map((r) => r.request.headers.get("webhook-id")))).toEqual(new Set([message!.webhookId]));
    const { deliveries } = (await listWebhookDeliveries(env.DB, acme, endpoint.id, 100))!;
    expect(deliveries.map((d) => [d.attempt, d.status, d.response_status])).toEqual(Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => [MAX_ATTEMPTS - 1 - i, "retrying", 500]));
  });

  it("after the last attempt leaves the message to the dead-letter queue (max_retries is the schedule's length) and records it as failed", async () => {
    const consumer = /\[\[queues\.consumers\]\]\s*queue = "consent-webhooks"[^[]*/.exec(wranglerToml)![0];
    expect(consumer).toContain(`max_retries = ${RETRY_DELAYS_SECONDS.length}\n`);
    expect(consumer).toContain('dead_letter_queue = "consent-webhooks-dlq"');
    expect(RETRY_DELAYS_SECONDS.every((d) => d <= 24 * 3600)).toBe(true);

    const acme = organization();
    const endpoint = await createWebhook(env, acme, { url: "https://crm.example.com/hook" });
    const [message] = await feed(await entries(acme, [{ type: "OPT_IN", topic: "T" }]));
    const logs = captureConsole();
    const result = await deliver([message!], receiver(503).send, MAX_ATTEMPTS);
    // A retry past max_retries is what moves a message to the dead-letter queue.
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect(result.delays).toEqual([undefined]);
    expect(logs.lines()).toEqual([expect.stringContaining("a webhook failed its last attempt; it goes to the dead-letter queue")]);
    expect((await listWebhookDeliveries(env.DB, acme, endpoint.id, 10))!.deliveries[0]).toMatchObject({ attempt: MAX_ATTEMPTS, status: "failed", response_status: 503 });
  });

  it("a network failure or a redirect is a failed attempt, retried", async () => {
    const acme = organization();
    const endpoint = await createWebhook(env, acme, { url: "https://crm.example.com/hook" });
    const [message] = await feed(await entries(acme, [{ type: "OPT_IN", topic: "T" }]));
    const refused = (async () => {
      throw new TypeError("connection refused");
    }) as typeof fetch;
    expect((await deliver([message!], refused)).retryMessages).toHaveLength(1);
    expect((await deliver([message!], receiver(302).send, 2)).retryMessages).toHaveLength(1);
    expect((await listWebhookDeliveries(env.DB, acme, endpoint.id, 10))!.deliveries.map((d) => [d.status, d.response_status, d.error])).toEqual([
      ["retrying", 302, undefined],
      ["retrying", undefined, "TypeError: connection refused"],
    ]);
  });

  it("sends nothing to a deleted endpoint, nor to an endpoint of another organization than the message's", async () => {
    const acme = organization();
    const endpoint = await createWebhook(env, acme, { url: "https://crm.example.com/hook" });
    const [message] = await feed(await entries(acme, [{ type: "OPT_IN", topic: "T" }]));
    const { received, send } = receiver(200);
    const forged = { ...message!, organizationId: organization().organizationId };
    expect((await deliver([forged], send)).explicitAcks).toHaveLength(1);
    await env.DB.prepare("DELETE FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).run();
    expect((await deliver([message!], send)).explicitAcks).toHaveLength(1);
    expect(received).toEqual([]);
  });

  it("drops a queued event whose person was erased meanwhile: nothing personal is sent", async () => {
    const acme = organization();
    const endpoint = await createWebhook(env, acme, { url: "https://crm.example.com/hook" });
    const [message] = await feed(await entries(acme, [{ type: "OPT_IN", topic: "T" }]));
    await env.DB.prepare("DELETE FROM consent_events WHERE organization_id = ?").bind(acme.organizationId).run();
    const { received, send } = receiver(200);
    expect((await deliver([message!], send)).explicitAcks).toHaveLength(1);
    expect(received).toEqual([]);
    expect((await listWebhookDeliveries(env.DB, acme, endpoint.id, 10))!.deliveries).toEqual([
      expect.objectContaining({ status: "dropped", error: "the event was erased before delivery" }),
    ]);
  });

  it("the worker hands the webhook queue's batches, and its dead-letter queue's when re-driven, to the delivery consumer", async () => {
    // An endpoint that does not exist: the delivery consumer acknowledges (the feed consumer could not write it and would retry).
    const gone: WebhookMessage = { type: "consent.erased", organizationId: "org-nobody", endpointId: "wh_gone", webhookId: "msg_gone", identifier: "x@example.com", erasedAt: new Date().toISOString() };
    for (const queue of [WEBHOOK_QUEUE_NAME, `${WEBHOOK_QUEUE_NAME}-dlq`]) {
      const batch = createMessageBatch<WebhookMessage>(queue, [{ id: "m1", timestamp: new Date(), attempts: 1, body: gone }]);
      const ctx = createExecutionContext();
      await worker.queue(batch as MessageBatch<any>, env);
      expect((await getQueueResult(batch, ctx)).explicitAcks, queue).toEqual(["m1"]);
    }
  });
});
