import { errorFields, log } from "../log";
import type { IndexEntry } from "./event-record";

/** The messages of one sendBatch: Queues takes at most 100 and 256 KB per batch. */
const MAX_MESSAGES = 100;
const MAX_BYTES = 200 * 1024;

/**
 * An upper bound of an entry's size as a queue message: a UTF-16 unit is at most 3 bytes of UTF-8,
 * doubled for escaping. (meta is at most 32 KiB, so one entry always fits a message on its own.)
 */
const entryBytes = (e: IndexEntry) =>
  256 + 6 * ((e.meta?.length ?? 0) + e.identifier.length + e.organizationId.length + e.topic.length + (e.source?.length ?? 0));

/** Entries in sendBatch-sized groups, in their order. */
export function queueBatches(entries: IndexEntry[]): IndexEntry[][] {
  const batches: IndexEntry[][] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    const last = batches.at(-1);
    if (!last || last.length >= MAX_MESSAGES || bytes + size > MAX_BYTES) {
      batches.push([entry]);
      bytes = size;
    } else {
      last.push(entry);
      bytes += size;
    }
  }
  return batches;
}
/** How long an entry waits for others from concurrent requests to share its batch (at 150 publishes/s: ~15). */
const GATHER_MS = 100;

/** A batch being gathered: plain data, so that later requests may add their entries to it. */
interface Gathering {
  entries: IndexEntry[];
  bytes: number;
}

/** Batches being gathered, one per queue binding (per isolate: entries from all its requests). */
const gathering = new WeakMap<Queue<IndexEntry>, Gathering>();

/**
 * Hands a committed event to the D1 index without paying a queue send per event: entries from
 * concurrent requests gather for GATHER_MS and leave in one sendBatch. Only the request that opened
 * a batch waits for it (its own timer and send, in its own `waitUntil`): a request must never await
 * another's promise. Later requests add their entry to the batch still gathering if it has room,
 * else open one. A lost batch costs nothing but time: the event stays in its ledger's outbox, whose
 * alarm re-sends it.
 */
export function feedIndex(env: Env, waitUntil: (promise: Promise<unknown>) => void, entry: IndexEntry): void {
  const queue = env.INDEX_QUEUE as Queue<IndexEntry>;
  const bytes = entryBytes(entry);
  const open = gathering.get(queue);
  if (open && open.entries.length < MAX_MESSAGES && open.bytes + bytes <= MAX_BYTES) {
    open.entries.push(entry);
    open.bytes += bytes;
    return;
  }
  const batch: Gathering = { entries: [entry], bytes };
  gathering.set(queue, batch);
  waitUntil(
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
      // Sending: closed to further entries.
      if (gathering.get(queue) === batch) gathering.delete(queue);
      try {
        await queue.sendBatch(batch.entries.map((body) => ({ body })));
      } catch (error) {
        log(env, "warn", "index queue refused a batch; the ledgers' alarms will re-send it", { entries: batch.entries.length, ...errorFields(error) });
      }
    })(),
  );
}
