import { spawn } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, inject, it, vi } from "vitest";
import { e2eHooksBasic, e2eOtherHooksBasic } from "./settings";

/**
 * Webhooks end to end: the gateway under wrangler dev (its real feed and webhook queues) POSTs to
 * receivers listening on 127.0.0.1 in this process (WEBHOOKS_ALLOW_LOCALHOST=true), which check
 * every signature with the standardwebhooks verifier.
 */

const base = inject("gatewayUrl");
const DELIVERED = { timeout: 25_000, interval: 200 };

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

/** A receiver answering `statuses` in turn (the last repeats); keeps what it was sent. */
async function receiver(...statuses: number[]) {
  const received: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(statuses[Math.min(received.length - 1, statuses.length - 1)]!).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

async function register(url: string, topic: string, authorization = e2eHooksBasic) {
  const response = await fetch(`${base}/v1/webhooks`, {
    method: "POST",
    headers: { Authorization: authorization, "Content-Type": "application/json" },
    body: JSON.stringify({ url, topics: [topic] }),
  });
  expect(response.status).toBe(201);
  return response.json() as Promise<{ id: string; secret: string }>;
}

async function publish(topic: string, identifier = `hooked-${crypto.randomUUID()}@example.com`) {
  const response = await fetch(`${base}/v1/consent/publish`, {
    method: "POST",
    headers: { Authorization: e2eHooksBasic, "Content-Type": "application/json" },
    body: JSON.stringify({ type: "OPT_IN", topic, identifier, source: "e2e" }),
  });
  expect(response.status).toBe(201);
  return response.json() as Promise<{ identifier: string; seq: number; hash: string }>;
}

/** The payload, verified with the endpoint's secret (throws if the signature does not hold). */
const verified = (secret: string, delivery: Delivery) => new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>) as any;

const uniqueTopic = (label: string) => `HOOK_${label}_${crypto.randomUUID().slice(0, 8)}`.toUpperCase();

describe("webhooks through wrangler dev", () => {
  it("delivers an event signed as Standard Webhooks says: the verifier accepts it, and it is the event /v1/events lists", async () => {
    const topic = uniqueTopic("signed");
    const { url, received } = await receiver(200);
    const endpoint = await register(url, topic);
    const event = await publish(topic);
    await vi.waitFor(() => expect(received).toHaveLength(1), DELIVERED);
    const payload = verified(endpoint.secret, received[0]!);
    const feed = (await (await fetch(`${base}/v1/events?topic=${topic}`, { headers: { Authorization: e2eHooksBasic } })).json()) as { events: any[] };
    expect(payload).toEqual({ type: "consent.event", timestamp: feed.events[0].created_at, data: feed.events[0] });
    expect(payload.data).toMatchObject({ identifier: event.identifier, seq: 1, hash: event.hash, source: "e2e" });
    expect(received[0]!.headers["content-type"]).toBe("application/json");
  });

  it("a receiver answering 500, then 200, gets the event twice with the same webhook-id; the attempts are listed", async () => {
    const topic = uniqueTopic("retried");
    const { url, received } = await receiver(500, 200);
    const endpoint = await register(url, topic);
    await publish(topic);
    await vi.waitFor(() => expect(received).toHaveLength(2), DELIVERED);
    const [first, second] = received as [Delivery, Delivery];
    expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(verified(endpoint.secret, second)).toEqual(verified(endpoint.secret, first));
    await vi.waitFor(async () => {
      const { deliveries } = (await (await fetch(`${base}/v1/webhooks/${endpoint.id}/deliveries`, { headers: { Authorization: e2eHooksBasic } })).json()) as { deliveries: any[] };
      expect(deliveries.map((d: any) => [d.webhook_id, d.attempt, d.status, d.response_status])).toEqual([
        [first.headers["webhook-id"], 2, "delivered", 200],
        [first.headers["webhook-id"], 1, "retrying", 500],
      ]);
    }, DELIVERED);
  });

  it("an endpoint of another organization never receives the event; a deleted endpoint receives nothing more", async () => {
    const topic = uniqueTopic("isolated");
    const kept = await receiver(200);
    const deleted = await receiver(200);
    const foreign = await receiver(200);
    await register(kept.url, topic);
    const doomed = await register(deleted.url, topic);
    await register(foreign.url, topic, e2eOtherHooksBasic);

    await publish(topic);
    await vi.waitFor(() => expect([kept.received.length, deleted.received.length]).toEqual([1, 1]), DELIVERED);
    expect((await fetch(`${base}/v1/webhooks/${doomed.id}`, { method: "DELETE", headers: { Authorization: e2eHooksBasic } })).status).toBe(204);

    await publish(topic);
    await vi.waitFor(() => expect(kept.received).toHaveLength(2), DELIVERED);
    // The deleted endpoint's message was queued at the same moment as the kept one's: give it the same batch's time and a retry's.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(deleted.received).toHaveLength(1);
    expect(foreign.received).toEqual([]);
  });

  it("the README's receiver (examples/webhook-receiver.ts) verifies and prints a delivery as written", async () => {
    const topic = uniqueTopic("readme");
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const endpoint = await register(`http://127.0.0.1:${port}/`, topic);
    const child = spawn(process.execPath, [path.resolve(import.meta.dirname, "../../examples/webhook-receiver.ts")], {
      env: { ...process.env, WEBHOOK_SECRET: endpoint.secret, PORT: String(port) },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    try {
      await vi.waitFor(() => expect(child.pid).toBeDefined());
      const event = await publish(topic);
      await vi.waitFor(() => expect(output).toMatch(new RegExp(`^msg_[0-9a-f]{32} consent\\.event ${event.identifier} 1\\n$`)), DELIVERED);
    } finally {
      child.kill();
    }
  });
});
