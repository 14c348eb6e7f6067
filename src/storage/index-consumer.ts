import { errorFields, log } from "../log";
import type { IndexEntry } from "./event-record";
import { ledgerStub } from "./identifier-ledger";

/**
 * One row into the index, only if its predecessor is there (or it is the first): the feed's order
 * of landing then agrees with each identifier's order, whatever order the queue delivers in.
 * A row already there is ignored, so a redelivered message never duplicates.
 */
const INSERT_IN_ORDER = `
  INSERT INTO consent_events (organization_id, identifier, sequence, type, topic, source, meta, created_at)
  SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
  WHERE ?3 = 1 OR EXISTS (SELECT 1 FROM consent_events WHERE organization_id = ?1 AND identifier = ?2 AND sequence = ?3 - 1)
  ON CONFLICT DO NOTHING`;

const RETRY_DELAY_SECONDS = 2;

const byLedgerThenSequence = (a: IndexEntry, b: IndexEntry) =>
  a.organizationId < b.organizationId ? -1 : a.organizationId > b.organizationId ? 1 : a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : a.sequence - b.sequence;

/**
 * The index queue's consumer: a batch of events across identifiers and organizations goes into D1
 * in one `db.batch` (one write call, one transaction), then each ledger learns what D1 holds.
 * A failed write retries the whole batch later; after the last retry it goes to the dead-letter
 * queue, and the ledgers' alarms re-send anything still unacknowledged.
 */
export async function indexBatch(batch: MessageBatch<IndexEntry>, env: Env, db: D1Database = env.DB): Promise<void> {
  const messages = [...batch.messages].sort((a, b) => byLedgerThenSequence(a.body, b.body));
  let results: D1Result[];
  try {
    results = await db.batch(
      messages.map(({ body: e }) => db.prepare(INSERT_IN_ORDER).bind(e.organizationId, e.identifier, e.sequence, e.type, e.topic, e.source, e.meta, e.createdAt)),
    );
  } catch (error) {
    log(env, "warn", "D1 index write failed; the batch will be retried", { queue: batch.queue, messages: messages.length, ...errorFields(error) });
    batch.retryAll({ delaySeconds: RETRY_DELAY_SECONDS });
    return;
  }
  log(env, "debug", "indexed", { rows: messages.length, inserted: results.filter((r) => r.meta.changes > 0).length });

  // Not inserted: either D1 has it already (a redelivery), or its predecessor has not landed yet.
  const skipped = messages.filter((_, i) => results[i]!.meta.changes === 0);
  const present = skipped.length
    ? await db.batch(
        skipped.map(({ body: e }) =>
          db.prepare("SELECT 1 FROM consent_events WHERE organization_id = ? AND identifier = ? AND sequence = ?").bind(e.organizationId, e.identifier, e.sequence),
        ),
      )
    : [];
  const waiting = new Set(skipped.filter((_, i) => present[i]!.results.length === 0));

  // Per ledger, the highest sequence D1 now holds without a gap among this batch's messages.
  const through = new Map<string, { entry: IndexEntry; sequence: number }>();
  for (const message of messages) {
    if (waiting.has(message)) {
      message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
      continue;
    }
    message.ack();
    const mark = through.get(message.body.ledger);
    if (!mark || message.body.sequence > mark.sequence) through.set(message.body.ledger, { entry: message.body, sequence: message.body.sequence });
  }
  await Promise.all(
    [...through.values()].map(async ({ entry, sequence }) => {
      const stub = ledgerStub(env, env.IDENTIFIER_LEDGER.idFromString(entry.ledger));
      try {
        await stub.indexed(sequence);
      } catch (error) {
        // Harmless: the ledger's alarm re-sends, and D1 ignores what it has.
        log(env, "warn", "a ledger missed its index acknowledgement", { ledger: entry.ledger, ...errorFields(error) });
      }
    }),
  );
}
