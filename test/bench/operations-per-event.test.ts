import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it, onTestFinished } from "vitest";
import worker, { app } from "../../src/index";
import { basic, uniqueEmail } from "../helpers/gateway";

/**
 * The platform operations behind 1,000 events published to distinct identifiers, counted on the
 * real bindings: the Durable Object namespace and D1 are wrapped with counting proxies, and the
 * ledgers' own SQL is counted from the cursors' `rowsWritten`/`rowsRead` (the figures Cloudflare
 * bills) by wrapping SqlStorage.exec for this isolate, where the test and the objects run. The
 * queue is the one stand-in: it keeps what is sent, and the consumer (`default.queue`) is then run
 * on it in deliveries of max_batch_size, as the platform would, retried messages redelivered.
 * `npm run bench` runs this file and prints the counts (task.meta, in vitest's JSON report).
 */

type Batch = Parameters<typeof worker.queue>[0];
type Entry = Batch["messages"][number]["body"];

export interface OperationCounts {
  events: number;
  workerRequests: { publishes: number; consumerInvocations: number };
  durableObject: { rpcs: number; alarmsPending: number; sqlRowsWritten: number; sqlRowsRead: number; kvWrites: number; alarmWrites: number };
  queue: { sendCalls: number; messagesWritten: number; messagesDelivered: number; messagesAcked: number };
  d1: { writeCalls: number; otherCalls: number; rowsWritten: number; rowsRead: number };
}

declare module "vitest" {
  interface TaskMeta {
    operations?: OperationCounts;
  }
}

const EVENTS = 1000;
/** Publishes in flight at once: the worker's 100 ms gathering then fills batches, as under load. */
const CONCURRENCY = 50;
/** wrangler.toml's max_batch_size. */
const MAX_BATCH = 100;

const bind = (target: object, value: unknown) => (typeof value === "function" ? value.bind(target) : value);

/** Every method call on a stub is one billed Durable Object request (an RPC session). */
function countingNamespace(real: Env["IDENTIFIER_LEDGER"], counts: OperationCounts["durableObject"]): Env["IDENTIFIER_LEDGER"] {
  const countingStub = (stub: ReturnType<typeof real.get>) =>
    new Proxy(stub, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          counts.rpcs++;
          // Reflect: an RPC method's own `apply` would be a remote call.
          return Reflect.apply(value, target, args);
        };
      },
    });
  return new Proxy(real, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "get") return (id: DurableObjectId) => countingStub(target.get(id));
      return bind(target, value);
    },
  });
}

/** D1 as it is, with its calls counted and the rows its own meta reports summed. */
function countingD1(real: D1Database, counts: OperationCounts["d1"]): D1Database {
  const add = (result: D1Result) => {
    counts.rowsRead += result.meta.rows_read;
    counts.rowsWritten += result.meta.rows_written;
  };
  return new Proxy(real, {
    get(target, property) {
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          counts.writeCalls++;
          const results = await target.batch(statements);
          results.forEach(add);
          return results;
        };
      }
      // Nothing on these paths calls D1 otherwise; should something start to, it shows here.
      if (property === "exec" || property === "dump") counts.otherCalls++;
      return bind(target, Reflect.get(target, property, target));
    },
  });
}

/** A queue that keeps what it is sent, counting calls and messages. */
function keepingQueue(counts: OperationCounts["queue"]) {
  const sent: Entry[] = [];
  const queue = {
    async send(body: Entry) {
      await queue.sendBatch([{ body }]);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<Entry>>) {
      counts.sendCalls++;
      for (const { body } of messages) {
        counts.messagesWritten++;
        sent.push(body);
      }
    },
  };
  return { sent, binding: queue as unknown as Queue<Entry> };
}

/**
 * Sums rowsWritten/rowsRead of every cursor the ledgers' SQL answers, and counts their key-value
 * and alarm writes, one row each (they land in the object's SQLite; an upper bound, as deleting a
 * key that is not there may write nothing). The prototypes are the runtime's, shared by every
 * object in this isolate; restored after the test.
 */
async function countLedgerStorage(counts: OperationCounts["durableObject"]) {
  const probe = env.IDENTIFIER_LEDGER.get(env.IDENTIFIER_LEDGER.newUniqueId());
  const { sql, kv, storage } = await runInDurableObject(probe, (_, state) => ({
    sql: Object.getPrototypeOf(state.storage.sql) as SqlStorage,
    kv: Object.getPrototypeOf(state.storage.kv) as SyncKvStorage,
    storage: Object.getPrototypeOf(state.storage) as DurableObjectStorage,
  }));
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  const wrap = <O extends object, K extends keyof O>(owner: O, name: K, replacement: (original: O[K]) => O[K]) => {
    const original = owner[name];
    owner[name] = replacement(original);
    onTestFinished(() => {
      owner[name] = original;
    });
  };
  wrap(sql, "exec", (exec) =>
    function (this: SqlStorage, ...args: Parameters<SqlStorage["exec"]>) {
      const cursor = exec.apply(this, args);
      cursors.push(cursor);
      return cursor;
    } as SqlStorage["exec"],
  );
  for (const name of ["put", "delete"] as const) {
    wrap(kv, name, (original) =>
      function (this: SyncKvStorage, ...args: unknown[]) {
        counts.kvWrites++;
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as never,
    );
  }
  for (const name of ["setAlarm", "deleteAlarm"] as const) {
    wrap(storage, name, (original) =>
      function (this: DurableObjectStorage, ...args: unknown[]) {
        counts.alarmWrites++;
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as never,
    );
  }
  return () => {
    for (const cursor of cursors) {
      counts.sqlRowsWritten += cursor.rowsWritten;
      counts.sqlRowsRead += cursor.rowsRead;
    }
  };
}

it("1,000 events to distinct identifiers take bounded platform operations", { timeout: 240_000 }, async ({ task }) => {
  const counts: OperationCounts = {
    events: EVENTS,
    workerRequests: { publishes: 0, consumerInvocations: 0 },
    durableObject: { rpcs: 0, alarmsPending: 0, sqlRowsWritten: 0, sqlRowsRead: 0, kvWrites: 0, alarmWrites: 0 },
    queue: { sendCalls: 0, messagesWritten: 0, messagesDelivered: 0, messagesAcked: 0 },
    d1: { writeCalls: 0, otherCalls: 0, rowsWritten: 0, rowsRead: 0 },
  };
  const queue = keepingQueue(counts.queue);
  const bindings: Env = {
    ...env,
    IDENTIFIER_LEDGER: countingNamespace(env.IDENTIFIER_LEDGER, counts.durableObject),
    DB: countingD1(env.DB, counts.d1),
    FEED_QUEUE: queue.binding,
  };
  const sumCursors = await countLedgerStorage(counts.durableObject);

  const identifiers = Array.from({ length: EVENTS }, () => uniqueEmail("cost"));
  /** One publish through the app; answers its background work (the batch to the queue). */
  const publish = async (identifier: string, n: number) => {
    const ctx = createExecutionContext();
    counts.workerRequests.publishes++;
    const response = await app.request(
      "/v1/consent/publish",
      { method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("acme") }, body: JSON.stringify({ type: "OPT_IN", topic: "COST", identifier, source: "bench", meta: { n } }) },
      bindings,
      ctx,
    );
    expect(response.status).toBe(201);
    return { background: waitOnExecutionContext(ctx) };
  };
  /** The queue's deliveries of what was sent so far, in batches of up to MAX_BATCH; a retried message comes again. */
  const deliver = async () => {
    for (let round = 0; queue.sent.length > 0; round++) {
      expect(round, "the consumer keeps retrying").toBeLessThan(5);
      const bodies = queue.sent.splice(0, MAX_BATCH);
      const batch = createMessageBatch<Entry>(
        "consent-index",
        bodies.map((body, n) => ({ id: `m${counts.queue.messagesDelivered + n}`, timestamp: new Date(), attempts: 1, body })),
      );
      const ctx = createExecutionContext();
      counts.workerRequests.consumerInvocations++;
      counts.queue.messagesDelivered += bodies.length;
      await worker.queue(batch, bindings);
      const result = await getQueueResult(batch, ctx);
      counts.queue.messagesAcked += result.explicitAcks.length;
      const retried = new Set(result.retryMessages.map((m) => m.msgId));
      queue.sent.push(...bodies.filter((_, n) => retried.has(batch.messages[n]!.id)));
    }
  };
  // CONCURRENCY publishes at a time, MAX_BATCH of them, delivered a batch at a time as they arrive: each ledger is
  // acknowledged within seconds, as deployed, long before its safety-net alarm would fire.
  for (let i = 0; i < EVENTS; i += MAX_BATCH) {
    const chunk = identifiers.slice(i, i + MAX_BATCH);
    const background: Promise<void>[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < chunk.length) {
          const n = next++;
          background.push((await publish(chunk[n]!, i + n)).background);
        }
      }),
    );
    await Promise.all(background);
    await deliver();
  }
  sumCursors();

  const { results } = await env.DB.prepare("SELECT COUNT(*) AS n FROM consent_events WHERE topic = 'COST' AND identifier IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(identifiers))
    .all<{ n: number }>();
  expect(results[0]!.n).toBe(EVENTS);
  // A safety-net alarm still set will fire: one more Durable Object request each.
  const alarms = await Promise.all(
    identifiers.map((identifier) =>
      runInDurableObject(env.IDENTIFIER_LEDGER.get(env.IDENTIFIER_LEDGER.idFromName(JSON.stringify(["org-acme", identifier]))), (_, state) => state.storage.getAlarm()),
    ),
  );
  counts.durableObject.alarmsPending = alarms.filter((alarm) => alarm !== null).length;
  task.meta.operations = counts;

  // The bounds are what this measures (README "Scaling"): a regression fails here.
  const per = (n: number) => n / EVENTS;
  expect(counts.workerRequests.publishes).toBe(EVENTS);
  expect(counts.workerRequests.consumerInvocations).toBeLessThanOrEqual(15);
  expect(counts.d1.writeCalls).toBeLessThanOrEqual(15);
  expect(counts.d1.otherCalls).toBe(0);
  expect(counts.durableObject.alarmsPending).toBe(0);
  expect(per(counts.durableObject.rpcs)).toBeLessThanOrEqual(2);
  expect(per(counts.durableObject.sqlRowsWritten + counts.durableObject.kvWrites + counts.durableObject.alarmWrites)).toBeLessThanOrEqual(9);
  expect(per(counts.queue.messagesWritten)).toBe(1);
  expect(per(counts.queue.messagesDelivered)).toBe(1);
  expect(per(counts.queue.sendCalls)).toBeLessThanOrEqual(0.2);
  // The event's row with its indexes (6) and its audience row with its status index (3).
  expect(per(counts.d1.rowsWritten)).toBeLessThanOrEqual(9);
  // The predecessor, the organization's last feed position, the erasure probe (consent_erasures), the event's own row for its audience row, and the audience row.
  expect(per(counts.d1.rowsRead)).toBeLessThanOrEqual(6);
});
