import type { Principal } from "../auth/principal";
import { identifierKey, settings } from "../config";
import type { ConsentEvent, EventInput, EventType, JsonObject } from "../consent-event";
import { appendedEvent, eventText, toConsentEvent, type EventRecord, type FeedEntry } from "../storage/event-record";
import { sendToFeed } from "../storage/feed/producer";
import type { D1Reader } from "../storage/d1-reader";
import { feedHistory, readAudience, readFeed } from "../storage/feed/reader";
import type { ListQuery } from "../storage/ledger/identifier-ledger";
import { identifierHash, IDENTIFIER_RULES_VERSION, legacySpelling, normalizeIdentifier } from "./identifiers";
import { encodeAudienceCursor, encodeFeedCursor, encodeHistoryCursor, type AudienceQuery, type OrganizationEventsQuery } from "./schemas";
import { verifyChain, type Verification } from "./verification";
import { COPILOT_TOPIC } from "./copilot";
import { EventNotFound } from "./errors";
import { issueReceipt } from "./receipts";
import { topicState, type DecidingEvent, type TopicState } from "./state";

/**
 * The Durable Object that owns one identifier's history in the caller's organization: the one way
 * to address a ledger. It is named by the identifier's keyed hash, so no object name carries it.
 */
export function ledgerFor(env: Env, organizationId: string, identifier: string) {
  const secret = identifierKey(env);
  const normalized = normalizeIdentifier(identifier);
  const hash = identifierHash(secret, organizationId, normalized);
  const legacy = legacySpelling(identifier);
  const key = {
    organizationId,
    identifier: normalized,
    rules: IDENTIFIER_RULES_VERSION,
    identifierHash: hash,
    ...(legacy === normalized ? {} : { legacyIdentifier: legacy }),
  };
  const id = env.IDENTIFIER_LEDGER.idFromName(hash);
  return { key, id, stub: env.IDENTIFIER_LEDGER.get(id) };
}

/** Work a request leaves running after it is answered (the Workers ExecutionContext). */
export interface Background {
  waitUntil(promise: Promise<unknown>): void;
}

/** Hands an appended event to the feed (in a batch with other requests' events). */
export function feedSoon(env: Env, background: Background, entry: FeedEntry | undefined): void {
  if (entry) sendToFeed(env, (promise) => background.waitUntil(promise), entry);
}

/** Appends an event to the identifier's history in the principal's organization; answers its feed entry (with its ledger's id). */
export async function appendEvent(env: Env, background: Background, principal: Principal, identifier: string, event: EventInput): Promise<FeedEntry> {
  const { key, stub } = await ledgerFor(env, principal.organizationId, identifier);
  const entry = await stub.append(key, eventText(event));
  feedSoon(env, background, entry);
  return entry;
}

/** Records an event and answers it as stored. */
export async function recordEvent(env: Env, background: Background, principal: Principal, identifier: string, event: EventInput): Promise<ConsentEvent> {
  return appendedEvent(await appendEvent(env, background, principal, identifier, event), event.meta);
}

/**
 * Records an event its sender identified as `eventId` (a Copilot Collect event) unless the
 * identifier's history already holds it: a redelivery records nothing (and sends nothing to the feed).
 */
export async function recordEventOnce(env: Env, background: Background, principal: Principal, identifier: string, eventId: string, event: EventInput): Promise<void> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  feedSoon(env, background, (await stub.appendOnce(key, eventId, eventText(event))) ?? undefined);
}

/** One page of an identifier's history, newest first; `next_cursor` pins the next page to what this one saw. */
export async function listEvents(
  env: Env,
  principal: Principal,
  identifier: string,
  query: ListQuery,
): Promise<{ events: ConsentEvent[]; total: number; next_cursor?: string }> {
  const { key, stub } = await ledgerFor(env, principal.organizationId, identifier);
  const { records, total, more } = await stub.list(key, query);
  const oldest = records.at(-1);
  return { events: records.map((record) => toConsentEvent(key, record)), total, ...(more && oldest ? { next_cursor: encodeHistoryCursor(oldest.sequence) } : {}) };
}

/**
 * The organization's events across identifiers in the order they landed in the feed (which
 * trails the identifiers' own ledgers by the feed pipeline's delay).
 */
export async function listOrganizationEvents(
  db: D1Reader,
  principal: Principal,
  { cursor, since, until, ...filters }: OrganizationEventsQuery,
): Promise<{ events: ConsentEvent[]; next_cursor: string | null; has_more: boolean }> {
  const { events, next, last } = await readFeed(db, principal.organizationId, {
    ...filters,
    since: since?.toISOString(),
    until: until?.toISOString(),
    after: cursor,
  });
  // Past the last page the cursor stays put, so a poller resumes where it stopped.
  const resume = last === undefined ? cursor : { feedPosition: last };
  return { events, next_cursor: resume === undefined ? null : encodeFeedCursor(resume), has_more: next };
}

/** Re-checks the identifier's chain in its ledger and the feed's copy against it. Writes nothing. */
export async function verifyHistory(env: Env, principal: Principal, identifier: string): Promise<Verification> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  const [ledger, feed] = await Promise.all([stub.chain(key), feedHistory(env.DB, key.organizationId, key.identifier)]);
  return verifyChain(identifierKey(env), key, ledger, feed);
}

/** The text a stored meta holds under `name`, if it is a string. */
const metaText = (meta: JsonObject | undefined, name: string) => (typeof meta?.[name] === "string" ? meta[name] : undefined);

/** A signed receipt for one recorded event (README "Receipts"): the notice and language come from its meta. */
export function receiptOf(env: Env, identifierHash: string, event: ConsentEvent): Promise<string> {
  const notice = {
    noticeVersion: metaText(event.meta, "notice_version"),
    noticeTextSha256: metaText(event.meta, "notice_text_sha256"),
    language: metaText(event.meta, "language"),
  };
  return issueReceipt(env, {
    organizationId: event.organization_id,
    identifierHash,
    seq: event.seq!,
    hash: event.hash!,
    type: event.type,
    topic: event.topic,
    createdAt: event.created_at,
    ...(event.source === undefined ? {} : { source: event.source }),
    ...Object.fromEntries(Object.entries(notice).filter(([, value]) => value !== undefined)),
  });
}

/** A signed receipt for the event `seq` of the identifier's history. */
export async function consentReceipt(env: Env, principal: Principal, identifier: string, seq: number): Promise<string> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  const record = await stub.event(key, seq);
  if (!record || record.hash === null) throw new EventNotFound(seq);
  return receiptOf(env, key.identifierHash, toConsentEvent(key, record));
}

/** A signed receipt for an event just recorded in the principal's organization (`Prefer: return=receipt`). */
export function receiptOfRecorded(env: Env, principal: Principal, event: ConsentEvent): Promise<string> {
  return receiptOf(env, ledgerFor(env, principal.organizationId, event.identifier).key.identifierHash, event);
}

/** An event as the rules of state see it. */
function decidingEvent(record: EventRecord | null): DecidingEvent | undefined {
  if (!record || record.hash === null) return undefined;
  const noticeVersion = metaText(record.meta === null ? undefined : (JSON.parse(record.meta) as JsonObject), "notice_version");
  return { seq: record.sequence, type: record.type as EventType, hash: record.hash, createdAt: record.createdAt, ...(noticeVersion === undefined ? {} : { noticeVersion }) };
}

/**
 * What the identifier's history says, per topic (or the one asked), at `at` (default now), by the
 * rules of state and the organization's rules (ORGANIZATIONS). Served by its ledger; writes nothing.
 */
export async function consentState(
  env: Env,
  principal: Pick<Principal, "organizationId">,
  identifier: string,
  query: { topic?: string | undefined; at?: Date | undefined },
): Promise<{ identifier: string; at: string; topics: TopicState[]; erased?: true; erased_at?: string }> {
  const { key, stub } = ledgerFor(env, principal.organizationId, identifier);
  const at = query.at ?? new Date();
  const { topics: histories, erasedAt } = await stub.latestPerTopic(key, at.toISOString(), query.topic);
  // Erased, and nothing recorded since: no status (not even Copilot's default) is left to answer.
  if (erasedAt !== undefined && histories.length === 0) return { identifier: key.identifier, at: at.toISOString(), topics: [], erased: true, erased_at: erasedAt };
  const asked = query.topic !== undefined && histories.length === 0 ? [{ topic: query.topic, decision: null, request: null }] : histories;
  const rules = settings(env).ORGANIZATIONS[key.organizationId] ?? {};
  const topics = asked.map(({ topic, decision, request }) => {
    const state = topicState({ topic, decision: decidingEvent(decision), request: decidingEvent(request) }, at.getTime(), rules.topics?.[topic]);
    // Copilot's analysis is allowed unless consent is required (seed: a configuration parameter).
    if (state.status === "none" && topic === COPILOT_TOPIC && !rules.copilot_consent_required) {
      return { topic, status: "granted" as const, decided_by: { rule: "default_allowed" as const } };
    }
    return state;
  });
  return { identifier: key.identifier, at: at.toISOString(), topics };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The organization's identifiers with a status on a topic (an e-mail audience), from the feed's
 * audience table: it trails the ledgers by the feed's pipeline. A grant past its topic's lifespan
 * (ORGANIZATIONS) is not granted.
 */
export async function listAudience(
  env: Env,
  db: D1Reader,
  principal: Principal,
  { topic, status, limit, cursor }: AudienceQuery,
): Promise<{ identifiers: { identifier: string; since: string }[]; next_cursor: string | null; has_more: boolean }> {
  const lifespan = settings(env).ORGANIZATIONS[principal.organizationId]?.topics?.[topic]?.lifespan_days;
  const sinceAfter = status === "granted" && lifespan !== undefined ? new Date(Date.now() - lifespan * DAY_MS).toISOString() : undefined;
  const { identifiers, next } = await readAudience(db, principal.organizationId, {
    topic,
    status,
    limit,
    ...(sinceAfter === undefined ? {} : { sinceAfter }),
    ...(cursor === undefined ? {} : { after: cursor }),
  });
  const last = identifiers.at(-1);
  return { identifiers, next_cursor: next && last ? encodeAudienceCursor(last.identifier) : null, has_more: next };
}
