import type { EventInput, Recording } from "../consent-event";

/** Topic and source under which Copilot.cx analysis consent is recorded (its consent endpoint and, by the rules of state, its default). */
export const COPILOT_TOPIC = "COPILOT_ANALYSIS";
export const COPILOT_SOURCE = "copilot";

/** The Collect API's events that may carry consent (seed: "user_created / user_updated / preexisting_user_created"). */
export const CONSENT_CARRYING_EVENTS = ["user_created", "user_updated", "preexisting_user_created"] as const;

/** The Collect event that erases the user's history (as DELETE /v1/consent/{identifier} does); it needs the consent:erase scope. */
export const ERASING_EVENT = "user_deleted";

/** The Collect events the gateway takes: those that carry consent, and the one that erases. */
export const COLLECTED_EVENTS = [...CONSENT_CARRYING_EVENTS, ERASING_EVENT] as const;

/** A Collect batch holds at most this many events. */
export const COLLECT_MAX_EVENTS = 100;
/** How far a Collect event's timestamp may be in the future: the sender's clock may run ahead of ours. */
export const COLLECT_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** How old a Collect event's timestamp may be (Copilot.cx: not older than 30 days). */
export const COLLECT_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * The event a Copilot.cx consent report records, whether it came to the consent endpoint or on a
 * Collect event (then with when it happened by the sender's clock): OPT_IN for true, OPT_OUT for false.
 */
export const copilotConsentEvent = (granted: boolean, recording: Recording, occurredAt?: string): EventInput => ({
  type: granted ? "OPT_IN" : "OPT_OUT",
  topic: COPILOT_TOPIC,
  source: COPILOT_SOURCE,
  ...recording,
  ...(occurredAt === undefined ? {} : { occurred_at: occurredAt }),
});
