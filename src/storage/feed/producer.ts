import { errorFields, log } from "../../log";
import type { FeedEntry } from "../event-record";

/** The messages of one sendBatch: Queues takes at most 100 and 256 KB per batch. */
const MAX_MESSAGES = 100;
const MAX_BYTES = 200 * 1024;

/**
 * An upper bound of an entry's size as a queue message: a UTF-16 unit is at most 3 bytes of UTF-8,
 * doubled for escaping. (meta is at most 32 KiB, so one entry always fits a message on its own.)
 */
const entryBytes = (e: FeedEntry) =>
  256 + 6 * ((e.meta?.length ?? 0) + e.identifier.length + e.organizationId.length + e.topic.length + (e.source?.length ?? 0));

/** Entries in sendBatch-sized groups, in their order. */
export function feedBatches(entries: FeedEntry[]): FeedEntry[][] {
  const batches: FeedEntry[][] = [];
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

/** How long a batch stays open for entries from concurrent requests (at 150 publishes/s: ~15). */
const GATHER_MS = 100;

/** A batch being gathered: plain data only, so other requests may add to it without awaiting anything of its opener's. */
interface Gathering {
  entries: FeedEntry[];
  bytes: number;
}

/** The batch still gathering, per queue binding (per isolate). */
const gathering = new WeakMap<Queue<FeedEntry>, Gathering>();

/**
 * Hands a committed event to the feed without paying a queue send per event. The request that
 * opens a batch owns its timer and its send (kept alive by its own `waitUntil`); requests that
 * join it only add their entry, plain data, and await nothing of another request's (the Workers
 * runtime forbids that). A lost batch costs only time: each event stays in its ledger's outbox,
 * whose alarm re-sends it.
 */
export function sendToFeed(env: Env, waitUntil: (promise: Promise<unknown>) => void, entry: FeedEntry): void {
  const queue = env.FEED_QUEUE;
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
      // Sending: closed to further entries (a full batch is never joined either).
      if (gathering.get(queue) === batch) gathering.delete(queue);
      try {
        await queue.sendBatch(batch.entries.map((body) => ({ body })));
      } catch (error) {
        log(env, "warn", "feed queue refused a batch; the ledgers' alarms will re-send it", { entries: batch.entries.length, ...errorFields(error) });
      }
    })(),
  );
}
