import { errorFields, log } from "../../log";
import type { FeedEntry } from "../event-record";
import { planWebhooks } from "../webhooks/announce";

/**
 * One row into the feed, only if its predecessor is there (or it is the first): the feed's order
 * of landing then agrees with each identifier's order, whatever order the queue delivers in. Its
 * feed position is the organization's next (D1 runs a batch as one transaction, one at a time), so
 * positions reveal nothing of other organizations. A row already there is ignored, so a
 * redelivered message never duplicates; only the chain columns of a row stored before the chain
 * are filled in, once (its ledger, migrated to the chain, sends it again).
 */
/**
 * Whether an event's generation of the history (?15) is the one the feed takes now: not erased
 * (a late message of an erased generation is dropped), and for a later generation, only once the
 * erasure before it has landed (which deleted the earlier generation's rows in its transaction).
 */
const CURRENT_GENERATION = `
  NOT EXISTS (SELECT 1 FROM consent_erasures WHERE organization_id = ?1 AND identifier_hash = ?9 AND generation >= ?15)
  AND (?15 = 1 OR EXISTS (SELECT 1 FROM consent_erasures WHERE organization_id = ?1 AND identifier_hash = ?9 AND generation = ?15 - 1))`;

const INSERT_IN_ORDER = `
  INSERT INTO consent_events (organization_id, identifier, sequence, type, topic, source, meta, created_at, identifier_hash, hash, prev_hash, commitments, proof, occurred_at, feed_position)
  SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, (SELECT COALESCE(MAX(feed_position), 0) + 1 FROM consent_events WHERE organization_id = ?1)
  WHERE (?3 = 1 OR EXISTS (SELECT 1 FROM consent_events WHERE organization_id = ?1 AND identifier = ?2 AND sequence = ?3 - 1)) AND ${CURRENT_GENERATION}
  ON CONFLICT (organization_id, identifier, sequence) DO UPDATE SET
    identifier_hash = excluded.identifier_hash, hash = excluded.hash, prev_hash = excluded.prev_hash, commitments = excluded.commitments, proof = excluded.proof
  WHERE consent_events.hash IS NULL AND excluded.hash IS NOT NULL`;
/** The same, answering where the row is, for an event a webhook endpoint wants (storage/webhooks/announce.ts). */
const INSERT_IN_ORDER_RETURNING = `${INSERT_IN_ORDER}
  RETURNING position, feed_position`;

/**
 * The audience row of the event's (organization, topic, identifier), moved forward to it if it is
 * the latest decision or request D1 holds: only when the event's row is there (inserted just now in
 * the same transaction, or before: the same link ?6, not a later generation's event of the same
 * seq), and never backwards, so a redelivery changes nothing.
 */
const upsertTopic = (kind: "decision" | "request") => `
  INSERT INTO consent_topics (organization_id, topic, identifier, ${kind}_seq, ${kind === "decision" ? "decision_type, " : ""}${kind}_at)
  SELECT ?1, ?5, ?2, ?3, ${kind === "decision" ? "?4, " : ""}?8
  WHERE EXISTS (SELECT 1 FROM consent_events WHERE organization_id = ?1 AND identifier = ?2 AND sequence = ?3 AND hash IS ?6)
  ON CONFLICT (organization_id, topic, identifier) DO UPDATE SET
    ${kind}_seq = excluded.${kind}_seq, ${kind === "decision" ? "decision_type = excluded.decision_type, " : ""}${kind}_at = excluded.${kind}_at
  WHERE consent_topics.${kind}_seq IS NULL OR consent_topics.${kind}_seq < excluded.${kind}_seq`;
const UPSERT_DECISION = upsertTopic("decision");
const UPSERT_REQUEST = upsertTopic("request");

/** The highest sequence up to which D1 holds an identifier's events without a gap. */
const HELD_THROUGH = `
  SELECT MIN(held.sequence) AS through FROM (SELECT 0 AS sequence UNION ALL SELECT sequence FROM consent_events WHERE organization_id = ?1 AND identifier = ?2) held
  WHERE NOT EXISTS (SELECT 1 FROM consent_events next WHERE next.organization_id = ?1 AND next.identifier = ?2 AND next.sequence = held.sequence + 1)`;

/** Why a message was not inserted: its generation was erased, it may be taken now, and whether its row is there (bound as INSERT_IN_ORDER is; the parameters it does not read stay unread). */
const SKIPPED = `
  SELECT
    EXISTS (SELECT 1 FROM consent_erasures WHERE organization_id = ?1 AND identifier_hash = ?9 AND generation >= ?15) AS stale,
    ${CURRENT_GENERATION} AS ready,
    EXISTS (SELECT 1 FROM consent_events WHERE organization_id = ?1 AND identifier = ?2 AND sequence = ?3) AS present`;

/** An entry's values as INSERT_IN_ORDER binds them (`?? null`: a message sent by a worker from before occurred_at or generations lacks the field). */
const insertArgs = (e: FeedEntry) =>
  [e.organizationId, e.identifier, e.sequence, e.type, e.topic, e.source, e.meta, e.createdAt, e.identifierHash, e.hash, e.prevHash, e.commitments, e.proof, e.occurredAt ?? null, e.generation ?? 1] as const;

const RETRY_DELAY_SECONDS = 2;

const byLedgerThenSequence = (a: FeedEntry, b: FeedEntry) =>
  a.organizationId < b.organizationId ? -1 : a.organizationId > b.organizationId ? 1 : a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : a.sequence - b.sequence;

const ledgerOf = (env: Env, entry: FeedEntry) => env.IDENTIFIER_LEDGER.get(env.IDENTIFIER_LEDGER.idFromString(entry.ledger));

/** Calls a ledger; a failure is harmless (the ledger's alarm re-sends, and D1 ignores what it has), so it is logged. */
async function tell(env: Env, entry: FeedEntry, what: string, call: () => Promise<void>) {
  try {
    await call();
  } catch (error) {
    log(env, "warn", `a ledger missed its ${what}`, { ledger: entry.ledger, ...errorFields(error) });
  }
}

/**
 * The feed queue's consumer: a batch of events across identifiers and organizations goes into D1
 * in one `db.batch` (one write call, one transaction), then each ledger learns what D1 holds. A
 * failed write retries the whole batch later; after the last retry it goes to the dead-letter
 * queue, and the ledgers' alarms re-send anything still unacknowledged. An event whose predecessor
 * D1 lacks waits; if the ledger counts that predecessor as fed (D1 lost rows), it re-sends them.
 */
export async function consumeFeedBatch(batch: MessageBatch<FeedEntry>, env: Env, db: D1Database = env.DB): Promise<void> {
  const messages = [...batch.messages].sort((a, b) => byLedgerThenSequence(a.body, b.body));
  const webhooks = await planWebhooks(env, db, messages.map((m) => m.body));
  let results: D1Result[];
  let lead: D1Result[];
  try {
    // Per event, its row and its audience row: one write call, one transaction.
    const written = await db.batch([
      ...webhooks.lead,
      ...messages.flatMap(({ body: e }) => [
        db
          .prepare(webhooks.wants(e) ? INSERT_IN_ORDER_RETURNING : INSERT_IN_ORDER)
          .bind(...insertArgs(e)),
        db
          .prepare(e.type === "DOUBLE_OPT_IN_REQUESTED" ? UPSERT_REQUEST : UPSERT_DECISION)
          .bind(e.organizationId, e.identifier, e.sequence, e.type, e.topic, e.hash, null, e.createdAt),
      ]),
    ]);
    lead = written.slice(0, webhooks.lead.length);
    results = written.slice(webhooks.lead.length).filter((_, i) => i % 2 === 0);
  } catch (error) {
    log(env, "warn", "D1 feed write failed; the batch will be retried", { queue: batch.queue, messages: messages.length, ...errorFields(error) });
    batch.retryAll({ delaySeconds: RETRY_DELAY_SECONDS });
    return;
  }
  log(env, "debug", "fed", { rows: messages.length, inserted: results.filter((r) => r.meta.changes > 0).length });
  await webhooks.announce(env, lead, results, messages.map((m) => m.body));

  // Not inserted: D1 has it already (a redelivery), its generation was erased (dropped), or it waits
  // for its predecessor or for the erasure before its generation.
  const skipped = messages.filter((_, i) => results[i]!.meta.changes === 0);
  const found = skipped.length ? await db.batch(skipped.map(({ body: e }) => db.prepare(SKIPPED).bind(...insertArgs(e)))) : [];
  const why = new Map(skipped.map((message, i) => [message, found[i]!.results[0] as { stale: number; ready: number; present: number }]));
  const stale = skipped.filter((message) => why.get(message)!.stale === 1);
  const waiting = skipped.filter((message) => !stale.includes(message) && why.get(message)!.present === 0);

  // Per ledger, the highest sequence D1 now holds among this batch's messages, and who waits.
  const through = new Map<string, FeedEntry>();
  const stalled = new Map<string, FeedEntry>();
  for (const message of messages) {
    const entry = message.body;
    if (stale.includes(message)) {
      message.ack();
      continue;
    }
    if (waiting.includes(message)) {
      message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
      // Only a missing predecessor is the ledger's to mend; an erasure on its way lands by itself.
      if (why.get(message)!.ready === 1 && !stalled.has(entry.ledger)) stalled.set(entry.ledger, entry);
      continue;
    }
    message.ack();
    const mark = through.get(entry.ledger);
    if (!mark || entry.sequence > mark.sequence) through.set(entry.ledger, entry);
  }
  const held = stalled.size
    ? await db.batch([...stalled.values()].map((e) => db.prepare(HELD_THROUGH).bind(e.organizationId, e.identifier)))
    : [];
  await Promise.all([
    ...[...through.values()].map((entry) => tell(env, entry, "feed acknowledgement", () => ledgerOf(env, entry).fed(entry.sequence, entry.generation ?? 1))),
    ...[...stalled.values()].map((entry, i) => {
      const heldThrough = (held[i]!.results[0] as { through: number }).through;
      return tell(env, entry, "resync", () => ledgerOf(env, entry).resync(heldThrough, entry.generation ?? 1));
    }),
  ]);
}
