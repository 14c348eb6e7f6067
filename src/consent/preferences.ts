import type { Principal } from "../auth/principal";
import { settings } from "../config";
import type { EventText } from "../storage/event-record";
import { ledgerOfLink, preferencesLink, proofOf, scopeOf, type ConfirmationContext, type PreferencesLink } from "./double-opt-in";
import { FieldRefused, LinkRefused, NoHistory } from "./errors";
import { exportHistory } from "./export";
import type { PreferencesClaims } from "./link-token";
import type { ConsentExport } from "./schemas";
import { consentState, feedSoon, ledgerFor, type Background } from "./service";
import type { ConsentStatus } from "./state";
import type { Language } from "../languages";

/** The source every event a preference page records carries. */
export const PREFERENCE_PAGE_SOURCE = "preference_page";

/** One topic on a person's preference page. */
export interface PreferenceTopic {
  topic: string;
  /** Its status by the rules of state (README "State"). */
  status: ConsentStatus;
  /** The organization opts the person out of it when their browser sends Global Privacy Control. */
  gpcOptOut: boolean;
}

/** What a preference page shows: whose page it is and every topic of the organization and of the person's history. */
export interface PreferencesView {
  claims: PreferencesClaims;
  identifier: string;
  topics: PreferenceTopic[];
}

/** What the person sent: the topics the page showed, those they want, and which button they pressed. */
export interface PreferencesChoice {
  action: "save" | "unsubscribe_all";
  shown: string[];
  granted: string[];
}

/** How the page's request was made: the proof, and whether it carried Global Privacy Control (Sec-GPC: 1). */
export type PreferencesContext = ConfirmationContext & { gpc: boolean };

/**
 * A preference page link for the identifier's history in the principal's organization. An
 * identifier without history is refused: a link names only its ledger, never the identifier, so
 * a page can only be for a history that exists.
 */
export async function createPreferencesLink(env: Env, principal: Principal, identifier: string, requestOrigin: string, lang?: Language): Promise<PreferencesLink> {
  const { key, id, stub } = ledgerFor(env, principal.organizationId, identifier);
  const generation = await stub.generationOf(key);
  if (generation === null) throw new NoHistory();
  return preferencesLink(settings(env), { organizationId: principal.organizationId, ledgerId: id.toString(), generation }, requestOrigin, { lang });
}

/** The identifier whose history a verified link names; a ledger of no history in its organization makes the link as good as forged. */
async function identifierOfLink(env: Env, claims: PreferencesClaims): Promise<string> {
  const identifier = await ledgerOfLink(env, claims).identifierOf(scopeOf(claims));
  // The ledger must be the one the identifier's name leads to (it is, unless the identifier key changed).
  if (identifier === null || ledgerFor(env, claims.organizationId, identifier).id.toString() !== claims.ledgerId) {
    throw new LinkRefused("invalid", claims.organizationId);
  }
  return identifier;
}

/** The page's topics: the organization's (ORGANIZATIONS, in its order), then any other the history has, each with its current state. */
async function topicsOf(env: Env, organizationId: string, identifier: string): Promise<PreferenceTopic[]> {
  const configured = settings(env).ORGANIZATIONS[organizationId]?.topics ?? {};
  const { topics } = await consentState(env, { organizationId }, identifier, {});
  const status = new Map(topics.map((t) => [t.topic, t.status]));
  const names = [...new Set([...Object.keys(configured), ...topics.map((t) => t.topic)])];
  return names.map((topic) => ({ topic, status: status.get(topic) ?? "none", gpcOptOut: configured[topic]?.gpc_opt_out === true }));
}

/** What the page shows. Writes nothing (GET and HEAD, and link scanners, land here). */
export async function viewPreferences(env: Env, claims: PreferencesClaims): Promise<PreferencesView> {
  const identifier = await identifierOfLink(env, claims);
  return { claims, identifier, topics: await topicsOf(env, claims.organizationId, identifier) };
}

/**
 * The event a topic needs for the person's choice, if any: Global Privacy Control opts out of the
 * topics the organization marks; "unsubscribe from everything" out of every topic; a save grants
 * what is ticked and not granted, and withdraws what is granted and not ticked (a topic the page
 * did not show is left as it is).
 */
function changeOf(topic: PreferenceTopic, choice: PreferencesChoice, gpc: boolean): { type: "OPT_IN" | "OPT_OUT"; gpc?: true } | undefined {
  const optedOut = topic.status === "withdrawn";
  if (gpc && topic.gpcOptOut) return optedOut ? undefined : { type: "OPT_OUT", gpc: true };
  if (choice.action === "unsubscribe_all") return optedOut ? undefined : { type: "OPT_OUT" };
  if (!choice.shown.includes(topic.topic)) return undefined;
  const wanted = choice.granted.includes(topic.topic);
  if (wanted && topic.status !== "granted") return { type: "OPT_IN" };
  if (!wanted && topic.status === "granted") return { type: "OPT_OUT" };
  return undefined;
}

/**
 * Records the person's choice: per changed topic an OPT_IN or OPT_OUT with source
 * "preference_page" and the proof, all in one ledger transaction (all or none), then each to the
 * feed. Answers the page as it now stands and the topics that changed.
 */
export async function savePreferences(
  env: Env,
  background: Background,
  claims: PreferencesClaims,
  choice: PreferencesChoice,
  context: PreferencesContext,
): Promise<{ view: PreferencesView; changed: string[] }> {
  const before = await viewPreferences(env, claims);
  const known = new Set(before.topics.map((t) => t.topic));
  for (const field of ["shown", "granted"] as const) {
    const unknown = choice[field].find((topic) => !known.has(topic));
    // A form the page did not send: nothing is recorded.
    if (unknown !== undefined) throw new FieldRefused(field, "unknown_topic", `names a topic the preference page does not show (${JSON.stringify(unknown.slice(0, 200))})`);
  }
  const events: { event: EventText }[] = [];
  for (const topic of before.topics) {
    const change = changeOf(topic, choice, context.gpc);
    if (!change) continue;
    const extra = { ...(change.gpc ? { gpc: true } : {}), ...(choice.action === "unsubscribe_all" ? { unsubscribe_all: true } : {}) };
    events.push({ event: { type: change.type, topic: topic.topic, ...proofOf(PREFERENCE_PAGE_SOURCE, context, extra).proof } });
  }
  if (events.length === 0) return { view: before, changed: [] };
  const { key, stub } = ledgerFor(env, claims.organizationId, before.identifier);
  for (const entry of await stub.appendMany(key, events)) feedSoon(env, background, entry ?? undefined);
  return { view: { ...before, topics: await topicsOf(env, claims.organizationId, before.identifier) }, changed: events.map(({ event }) => event.topic) };
}

/** The export of the link's person only (the preference page's "download my data"). Writes nothing. */
export async function exportPreferences(env: Env, claims: PreferencesClaims): Promise<ConsentExport> {
  return exportHistory(env, { organizationId: claims.organizationId }, await identifierOfLink(env, claims));
}
