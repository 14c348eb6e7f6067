import { createExecutionContext, createMessageBatch, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ledgerFor } from "../../src/consent/service";
import { app } from "../../src/index";
import type { FeedEntry } from "../../src/storage/event-record";
import type { IdentifierLedger } from "../../src/storage/ledger/identifier-ledger";
import { basic } from "./gateway";

/** An identifier's ledger in a test organization: its key, id and stub (for RPC and for runInDurableObject alike). */
export const ledgerOf = (organizationId: string, identifier: string) => ledgerFor(env, organizationId, identifier);

/** The sequence numbers and meta of a ledger's events, oldest first, read from its own storage. */
export function storedSequence(stub: DurableObjectStub<IdentifierLedger>) {
  return runInDurableObject(stub, (_: IdentifierLedger, state) =>
    state.storage.sql.exec<{ sequence: number; meta: string }>("SELECT sequence, meta FROM events ORDER BY sequence").toArray(),
  );
}

/** Moves a ledger's events `ms` into the past, as if the feed pipeline had been waiting that long. */
export function ageEvents(stub: DurableObjectStub<IdentifierLedger>, ms: number) {
  return runInDurableObject(stub, (_: IdentifierLedger, state) => {
    for (const { sequence, created_at } of state.storage.sql.exec<{ sequence: number; created_at: string }>("SELECT sequence, created_at FROM events").toArray()) {
      state.storage.sql.exec("UPDATE events SET created_at = ? WHERE sequence = ?", new Date(Date.parse(created_at) - ms).toISOString(), sequence);
    }
  });
}

/** The feed's (D1) rows of one identifier, oldest first. */
export async function fedRows(organizationId: string, identifier: string) {
  const { results } = await env.DB.prepare(
    "SELECT sequence, type, topic, meta FROM consent_events WHERE organization_id = ? AND identifier = ? ORDER BY sequence",
  )
    .bind(organizationId, identifier)
    .all<{ sequence: number; type: string; topic: string; meta: string | null }>();
  return results;
}

/**
 * Wraps the real D1 binding so that `batch` fails while `fault.failing` is set, and counts its
 * calls (each one D1 write call); everything goes through the real database otherwise.
 */
export function flakyD1(real: D1Database, fault: { failing: boolean; attempts: number }): D1Database {
  return new Proxy(real, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "batch") {
        return async (...args: Parameters<D1Database["batch"]>) => {
          fault.attempts++;
          if (fault.failing) throw new Error("D1 is unavailable (injected fault)");
          return target.batch(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A queue that keeps what is sent to it (or refuses, while `refusing`), instead of delivering it. */
export function capturingQueue<T = FeedEntry>(options: { refusing?: boolean } = {}) {
  const sent: T[] = [];
  const queue = {
    refusing: options.refusing ?? false,
    async send(body: T) {
      await queue.sendBatch([{ body }]);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<T>>) {
      if (queue.refusing) throw new Error("the queue refuses sends (injected fault)");
      for (const message of messages) sent.push(message.body);
    },
  };
  return { sent, queue, binding: queue as unknown as Queue<T> };
}

/** Publishes through the app with some bindings replaced (e.g. the feed queue), waiting for its background work. */
export async function publishWith(bindings: Partial<Env>, body: unknown) {
  const ctx = createExecutionContext();
  const response = await app.request(
    "/v1/consent/publish",
    { method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("acme") }, body: JSON.stringify(body) },
    { ...env, ...bindings },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/** A queue batch of `entries` as the consumer receives them. */
export const batchOf = (entries: FeedEntry[], attempts = 1) =>
  createMessageBatch<FeedEntry>(
    "consent-index",
    entries.map((body, i) => ({ id: `m${i}-${body.ledger.slice(0, 8)}-${body.sequence}`, timestamp: new Date(), attempts, body })),
  );
