/**
 * The rules of state: what a history says about one topic at an instant (README "State").
 *
 * | the latest events on the topic up to the instant | status | decided by |
 * |---|---|---|
 * | a grant (OPT_IN or DOUBLE_OPT_IN) is the latest OPT_IN, DOUBLE_OPT_IN or OPT_OUT, no older than the topic's lifespan | `granted` | that grant |
 * | the same, older than the lifespan | `expired` | that grant |
 * | a DOUBLE_OPT_IN_REQUESTED after the latest OPT_OUT, or with none before it | `pending` | that request |
 * | an OPT_OUT is the latest OPT_IN, DOUBLE_OPT_IN or OPT_OUT | `withdrawn` | that OPT_OUT |
 * | nothing | `none` | (nothing; for Copilot analysis, `granted` by the rule `default_allowed` unless the organization requires consent) |
 *
 * A request grants nothing and takes nothing away: a grant stays granted while a new request waits.
 */
import type { EventType } from "../consent-event";

export type ConsentStatus = "granted" | "pending" | "withdrawn" | "expired" | "none";

/** An event as the rules see it. */
export interface DecidingEvent {
  seq: number;
  type: EventType;
  hash: string;
  createdAt: string;
  noticeVersion?: string;
}

/** What one topic's history holds up to the instant: its latest decision and its latest request. */
export interface TopicHistory {
  topic: string;
  decision?: DecidingEvent;
  request?: DecidingEvent;
}

/** The organization's rules for a topic (ORGANIZATIONS). */
export interface TopicRules {
  lifespan_days?: number;
  notice_version?: string;
}

export interface TopicState {
  topic: string;
  status: ConsentStatus;
  since?: string;
  decided_by?: { seq: number; type: EventType; hash: string } | { rule: "default_allowed" };
  notice_outdated?: true;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const isGrant = (type: EventType) => type === "OPT_IN" || type === "DOUBLE_OPT_IN";

const decidedBy = (event: DecidingEvent) => ({ since: event.createdAt, decided_by: { seq: event.seq, type: event.type, hash: event.hash } });

/** The status of one topic at `at` (ms), by the table above. */
export function topicState({ topic, decision, request }: TopicHistory, at: number, rules: TopicRules = {}): TopicState {
  if (decision && isGrant(decision.type)) {
    const lifespan = rules.lifespan_days === undefined ? Infinity : rules.lifespan_days * DAY_MS;
    const expired = at - Date.parse(decision.createdAt) > lifespan;
    const outdated = !expired && rules.notice_version !== undefined && decision.noticeVersion !== rules.notice_version;
    return { topic, status: expired ? "expired" : "granted", ...decidedBy(decision), ...(outdated ? { notice_outdated: true } : {}) };
  }
  if (request && (!decision || request.seq > decision.seq)) return { topic, status: "pending", ...decidedBy(request) };
  if (decision) return { topic, status: "withdrawn", ...decidedBy(decision) };
  return { topic, status: "none" };
}
