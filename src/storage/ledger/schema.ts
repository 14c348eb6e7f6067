/**
 * The identifier ledger's own SQLite schema, as numbered migrations applied once per object when
 * it starts (inside blockConcurrencyWhile, so no request sees a half-migrated object).
 *
 * Why numbered SQL and a version in the object's key-value storage rather than drizzle's
 * durable-sqlite migrator: that migrator needs drizzle-kit's generated bundle and a bundler rule
 * for .sql files; these few statements need neither, and the version is written in the same
 * transaction as the statements it records.
 */
import { identifierHash } from "../../chain";
import type { EventRecord, LedgerKey } from "../event-record";
import { chainFields } from "./chain-link";

const SCHEMA_VERSION_KEY = "schema_version";
export const OWNER_KEY = "owner";
/** The highest sequence the feed (D1) is known to hold; the events after it are the outbox. (Stored name kept from v3.) */
export const FED_THROUGH_KEY = "indexed_through";

/** The chain's columns (migration 4): the link, the previous link, the commitments and the proof. */
const CHAIN_COLUMNS = ["hash", "prev_hash", "commitments", "proof"];

/**
 * The Copilot Collect columns (migration 5): when the event happened by its sender's clock, and the
 * sender's id for it, by which a redelivered event is found and recorded only once. No index: a
 * history holds a handful of events, and an index would be one more row written per new object.
 */
const COLLECT_COLUMNS = ["occurred_at", "event_id"];

/** The idempotency record that keeps the answer of the request that recorded the event (migration 6): an erasure makes it forget. */
const ERASURE_COLUMNS = ["idempotency_record"];

/** The events table with the columns of version 1 and then `later` (all TEXT), and its topic index. */
const eventsTable = (later: string[]) => `
  CREATE TABLE IF NOT EXISTS events (
    sequence INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    topic TEXT NOT NULL,
    source TEXT,
    meta TEXT,
    created_at TEXT NOT NULL${later.map((column) => `,\n    ${column} TEXT`).join("")}
  );
  CREATE INDEX IF NOT EXISTS events_by_topic ON events (topic, sequence);
`;

/** The events table as every version has it. */
const EVENTS = eventsTable([]);

const addColumns = (sql: SqlStorage, columns: string[]) => {
  for (const column of columns) sql.exec(`ALTER TABLE events ADD COLUMN ${column} TEXT`);
};

/** What a migration may need beyond the storage: the key of the identifier hash and commitments. */
export interface MigrationContext {
  identifierKey: string;
}

type Migration = (sql: SqlStorage, kv: SyncKvStorage, context: MigrationContext) => void;

export const LEDGER_MIGRATIONS: readonly Migration[] = [
  // 1: the schema objects had before they were versioned (IF NOT EXISTS: those objects have it).
  (sql) =>
    sql.exec(`
      CREATE TABLE IF NOT EXISTS ledger (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      ${EVENTS}
      CREATE TABLE IF NOT EXISTS outbox (sequence INTEGER PRIMARY KEY);
    `),
  // 2: the owner moves to the key-value storage, read once per start instead of per append.
  (sql, kv) => {
    const rows = sql.exec<{ key: string; value: string }>("SELECT key, value FROM ledger").toArray();
    const setting = (key: string) => rows.find((row) => row.key === key)?.value;
    const organizationId = setting("organization_id");
    const identifier = setting("identifier");
    if (organizationId !== undefined && identifier !== undefined) kv.put(OWNER_KEY, { organizationId, identifier });
    sql.exec("DROP TABLE ledger");
  },
  // 3: the outbox becomes a watermark: the events after `indexed_through` are the ones D1 still
  // lacks, so an append writes one row instead of two.
  (sql, kv) => {
    const pending = sql.exec<{ first: number | null }>("SELECT MIN(sequence) AS first FROM outbox").one().first;
    const last = sql.exec<{ last: number | null }>("SELECT MAX(sequence) AS last FROM events").one().last;
    kv.put(FED_THROUGH_KEY, pending === null ? (last ?? 0) : pending - 1);
    sql.exec("DROP TABLE outbox");
  },
  // 4: the hash chain. Existing events are linked in order, and the watermark goes back to 0 so the
  // safety net sends them again: the feed consumer fills in the chain columns of D1's copies.
  (sql, kv, { identifierKey }) => {
    addColumns(sql, CHAIN_COLUMNS);
    const owner = kv.get<LedgerKey>(OWNER_KEY);
    if (!owner) return;
    const chainOwner = { organizationId: owner.organizationId, identifierHash: identifierHash(identifierKey, owner.organizationId, owner.identifier) };
    let prevHash: string | null = null;
    // The columns of version 3 only (History reads later ones too); nothing had an occurred_at yet.
    const records = sql.exec<Omit<EventRecord, "occurredAt" | "hash" | "prevHash" | "commitments" | "proof">>(
      "SELECT sequence, type, topic, source, meta, created_at AS createdAt FROM events ORDER BY sequence",
    );
    for (const record of records.toArray()) {
      const link = chainFields(identifierKey, chainOwner, prevHash, { ...record, occurredAt: null }, null);
      sql.exec("UPDATE events SET hash = ?, prev_hash = ?, commitments = ? WHERE sequence = ?", link.hash, link.prevHash, link.commitments, record.sequence);
      prevHash = link.hash;
    }
    kv.put(FED_THROUGH_KEY, 0);
  },
  // 5: Copilot Collect events: occurred_at and event_id. Existing events have neither, so their links stand.
  (sql) => addColumns(sql, COLLECT_COLUMNS),
  // 6: erasure: which idempotency record keeps each event's answer (not in the link).
  (sql) => addColumns(sql, ERASURE_COLUMNS),
];

/** Whether the object has ever stored anything (a fresh one has neither a version nor a table). */
const hasStorage = (storage: DurableObjectStorage) =>
  storage.kv.get<number>(SCHEMA_VERSION_KEY) !== undefined || storage.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'events'").toArray().length > 0;

/**
 * Brings an object that holds a history to the latest schema when it starts; answers whether it
 * holds one. A fresh object is left untouched: reads and link checks of unknown identifiers write
 * nothing, and its first write creates the schema (`createSchema`).
 */
export function openLedger(storage: DurableObjectStorage, context: MigrationContext): boolean {
  if (!hasStorage(storage)) return false;
  const found = storage.kv.get<number>(SCHEMA_VERSION_KEY) ?? 0;
  if (found < LEDGER_MIGRATIONS.length) {
    storage.transactionSync(() => {
      for (let version = found; version < LEDGER_MIGRATIONS.length; version++) LEDGER_MIGRATIONS[version]!(storage.sql, storage.kv, context);
      storage.kv.put(SCHEMA_VERSION_KEY, LEDGER_MIGRATIONS.length);
    });
  }
  return true;
}

/** The latest schema at once, for an object's first write (call inside that write's transaction). */
export function createSchema(storage: DurableObjectStorage): void {
  // One CREATE with every column, not version 1 and its ALTERs: each ALTER is a row written per new object.
  storage.sql.exec(eventsTable([...CHAIN_COLUMNS, ...COLLECT_COLUMNS, ...ERASURE_COLUMNS]));
  storage.kv.put(SCHEMA_VERSION_KEY, LEDGER_MIGRATIONS.length);
}
