/**
 * What a double opt-in or opt-out link finds in a history: the rules that decide whether its POST
 * records something. Read inside the same synchronous transaction as the append they allow.
 */

/** Where a double opt-in request stands. */
export type OptInStatus = "pending" | "confirmed" | "withdrawn" | "unknown";
/** Whether the latest consent event on a topic is an OPT_OUT. */
export type OptOutStatus = "subscribed" | "unsubscribed" | "unknown";

const exists = (sql: SqlStorage, query: string, ...bindings: (string | number)[]) => sql.exec(query, ...bindings).toArray().length > 0;

/** The request `requestSequence` on `topic`: unknown if there is none, withdrawn after a later OPT_OUT, else confirmed once. */
export function optInStatus(sql: SqlStorage, requestSequence: number, topic: string): OptInStatus {
  if (!exists(sql, "SELECT 1 FROM events WHERE sequence = ? AND type = 'DOUBLE_OPT_IN_REQUESTED' AND topic = ?", requestSequence, topic)) return "unknown";
  if (exists(sql, "SELECT 1 FROM events WHERE type = 'OPT_OUT' AND topic = ? AND sequence > ? LIMIT 1", topic, requestSequence)) return "withdrawn";
  const confirmed = exists(
    sql,
    "SELECT 1 FROM events WHERE type = 'DOUBLE_OPT_IN' AND topic = ? AND json_extract(meta, '$.request_sequence') = ? LIMIT 1",
    topic,
    requestSequence,
  );
  return confirmed ? "confirmed" : "pending";
}

export function optOutStatus(sql: SqlStorage, topic: string): OptOutStatus {
  const latest = sql
    .exec<{ type: string }>("SELECT type FROM events WHERE topic = ? AND type IN ('OPT_IN', 'OPT_OUT', 'DOUBLE_OPT_IN') ORDER BY sequence DESC LIMIT 1", topic)
    .toArray()[0];
  return latest?.type === "OPT_OUT" ? "unsubscribed" : "subscribed";
}
