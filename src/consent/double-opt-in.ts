import type { Principal } from "../auth/principal";
import { ConfigError, settings, type Settings } from "../config";
import type { ConsentEvent, EventProof, JsonObject, Recording } from "../consent-event";
import type { Language } from "../languages";
import { appendedEvent } from "../storage/event-record";
import type { LinkScope, LinkView, OptInStatus, OptOutStatus, Proof } from "../storage/ledger/identifier-ledger";

export type { OptInStatus, OptOutStatus } from "../storage/ledger/identifier-ledger";
import { ConsentWithdrawn, FieldRefused, LinkRefused } from "./errors";
import {
  signLink,
  signPreferencesLink,
  verifyLink,
  verifyPreferencesLink,
  type KeyRing,
  type LinkClaims,
  type LinkPurpose,
  type PreferencesClaims,
  type ToSign,
} from "./link-token";
import { appendEvent, feedSoon, type Background } from "./service";

const DAY_SECONDS = 24 * 60 * 60;

export interface DoubleOptInRequest {
  topic: string;
  identifier: string;
  source?: string;
  meta?: JsonObject;
  lang?: Language;
  redirect_url?: string;
}

export interface DoubleOptInLinks {
  event: ConsentEvent;
  opt_in_url: string;
  opt_out_url: string;
  expires_at: string;
  preferences_url: string;
}

/** A signed link to a person's preference page, and when it stops working. */
export interface PreferencesLink {
  preferences_url: string;
  expires_at: string;
}

/** Who confirmed and how: stored as the event's proof. */
export interface ConfirmationContext {
  ipAddress?: string;
  requestId?: string;
  userAgent?: string;
  language: Language;
  oneClick?: boolean;
}

/** The links' signing key and the former keys that still verify (opt-in, opt-out and preference page links alike). */
function keyRing(config: Settings): KeyRing {
  if (!config.OPT_IN_SIGNING_KEY) throw new ConfigError("OPT_IN_SIGNING_KEY", "is not set");
  return { current: config.OPT_IN_SIGNING_KEY, previous: config.OPT_IN_PREVIOUS_SIGNING_KEYS };
}

/**
 * Records DOUBLE_OPT_IN_REQUESTED (which grants nothing) and answers the signed links for the
 * caller's mailer: one to confirm, one to opt out (RFC 8058 one-click capable).
 */
export async function requestDoubleOptIn(
  env: Env,
  background: Background,
  principal: Principal,
  request: DoubleOptInRequest,
  recording: Recording,
  requestOrigin: string,
): Promise<DoubleOptInLinks> {
  const config = settings(env);
  const keys = keyRing(config);
  if (request.redirect_url !== undefined) {
    const allowed = config.OPT_IN_BRANDING[principal.organizationId]?.redirect_origins ?? [];
    if (!allowed.includes(new URL(request.redirect_url).origin)) {
      throw new FieldRefused("redirect_url", "redirect_not_allowed", "must be on one of the organization's redirect origins (OPT_IN_BRANDING)");
    }
  }
  const requested = await appendEvent(env, background, principal, request.identifier, {
    type: "DOUBLE_OPT_IN_REQUESTED",
    topic: request.topic,
    ...(request.source === undefined ? {} : { source: request.source }),
    ...(request.meta === undefined ? {} : { meta: request.meta }),
    ...recording,
  });
  const base = { organizationId: principal.organizationId, ledgerId: requested.ledger, topic: request.topic, generation: requested.generation ?? 1 };
  const event = appendedEvent(requested, request.meta);
  const now = new Date(event.created_at);
  const [optIn, optOut, preferences] = await Promise.all([
    signLink(
      { ...base, purpose: "opt-in", requestSequence: requested.sequence, ...(request.redirect_url ? { redirectUrl: request.redirect_url } : {}) },
      keys,
      { ttlSeconds: config.OPT_IN_TTL_DAYS * DAY_SECONDS, now },
    ),
    signLink({ ...base, purpose: "opt-out" }, keys, { ttlSeconds: config.OPT_OUT_TTL_DAYS * DAY_SECONDS, now }),
    preferencesLink(config, { organizationId: principal.organizationId, ledgerId: requested.ledger, generation: requested.generation ?? 1 }, requestOrigin, { lang: request.lang, now }),
  ]);
  const origin = config.PUBLIC_BASE_URL ?? requestOrigin;
  const lang = request.lang ? `?lang=${request.lang}` : "";
  return {
    event,
    opt_in_url: `${origin}/v1/opt-in/${optIn.token}${lang}`,
    opt_out_url: `${origin}/v1/opt-out/${optOut.token}${lang}`,
    expires_at: optIn.expiresAt.toISOString(),
    preferences_url: preferences.preferences_url,
  };
}

/** Signs a link to the preference page of the ledger's history (every topic; PREFERENCES_LINK_TTL_DAYS long). */
export async function preferencesLink(
  config: Settings,
  claims: ToSign<PreferencesClaims>,
  requestOrigin: string,
  { lang, now }: { lang?: Language | undefined; now?: Date } = {},
): Promise<PreferencesLink> {
  const { token, expiresAt } = await signPreferencesLink(claims, keyRing(config), { ttlSeconds: config.PREFERENCES_LINK_TTL_DAYS * DAY_SECONDS, ...(now ? { now } : {}) });
  return { preferences_url: `${config.PUBLIC_BASE_URL ?? requestOrigin}/v1/preferences/${token}${lang ? `?lang=${lang}` : ""}`, expires_at: expiresAt.toISOString() };
}

/** Verifies a preference page link with the links' key ring; throws LinkRefused saying why not. */
export function verifyPreferencesToken(env: Env, token: string): Promise<PreferencesClaims> {
  return verifyPreferencesLink(token, keyRing(settings(env)));
}

/** Verifies a link's token for `purpose` with the organization's key ring; throws LinkRefused saying why not. */
export function verifyLinkToken(env: Env, token: string, purpose: LinkPurpose): Promise<LinkClaims> {
  return verifyLink(token, purpose, keyRing(settings(env)));
}

/** The ledger a verified link points to. */
/** What a link may reach in its ledger: its organization's history, of the generation it was signed for. */
export const scopeOf = ({ organizationId, generation }: Pick<LinkClaims, "organizationId" | "generation">): LinkScope => ({ organizationId, generation });

export function ledgerOfLink(env: Env, claims: Pick<LinkClaims, "organizationId" | "ledgerId">) {
  let id: DurableObjectId;
  try {
    id = env.IDENTIFIER_LEDGER.idFromString(claims.ledgerId);
  } catch {
    // Signed by us, yet naming no ledger of this namespace: as good as forged.
    throw new LinkRefused("invalid", claims.organizationId);
  }
  return env.IDENTIFIER_LEDGER.get(id);
}

export interface LinkOutcome<S> {
  claims: LinkClaims;
  status: Exclude<S, "unknown" | "withdrawn">;
  identifier: string;
  event?: ConsentEvent;
}

/**
 * What a link found: a ledger with no such request (or of another organization) makes the link as
 * good as forged; an opt-out after the request makes it withdrawn. An event the link recorded is
 * answered with the proof's own meta object (it crossed to the ledger as text).
 */
function outcome<S extends string>(claims: LinkClaims, view: LinkView<S>, proof?: { meta: JsonObject }): LinkOutcome<S> {
  if (view.status === "unknown" || view.identifier === undefined) throw new LinkRefused("invalid", claims.organizationId);
  if (view.status === "withdrawn") throw new ConsentWithdrawn(claims.topic, claims.organizationId);
  return {
    claims,
    status: view.status as Exclude<S, "unknown" | "withdrawn">,
    identifier: view.identifier,
    ...(view.appended ? { event: appendedEvent(view.appended, proof?.meta) } : {}),
  };
}

/** Who confirmed and how: the proof stored with the event (its source, and its meta as the ledger takes it). */
export function proofOf(source: string, context: ConfirmationContext, extra: JsonObject): { proof: Proof; meta: JsonObject } {
  const meta: JsonObject = {
    ...extra,
    ...(context.ipAddress ? { ip_address: context.ipAddress } : {}),
    ...(context.userAgent ? { user_agent: context.userAgent.slice(0, 512) } : {}),
    language: context.language,
  };
  const proof: EventProof = { ...(context.requestId ? { request_id: context.requestId } : {}), ...(context.ipAddress ? { client_ip: context.ipAddress } : {}) };
  return { proof: { source, meta: JSON.stringify(meta), proof }, meta };
}

/** Reads where an opt-in link stands; changes nothing (GET and HEAD, and scanners, land here). */
export async function inspectOptIn(env: Env, claims: LinkClaims): Promise<LinkOutcome<OptInStatus>> {
  return outcome(claims, await ledgerOfLink(env, claims).optInStatus(scopeOf(claims), claims.requestSequence!, claims.topic));
}

/** Confirms an opt-in link: records DOUBLE_OPT_IN with proof, at most once per request. */
export async function confirmOptIn(env: Env, background: Background, claims: LinkClaims, context: ConfirmationContext): Promise<LinkOutcome<OptInStatus>> {
  const requestSequence = claims.requestSequence!;
  const { proof, meta } = proofOf("double-opt-in-link", context, { double_opt_in: true, request_sequence: requestSequence });
  const view = await ledgerOfLink(env, claims).confirmOptIn(scopeOf(claims), requestSequence, claims.topic, proof);
  feedSoon(env, background, view.appended);
  return outcome(claims, view, { meta });
}

export async function inspectOptOut(env: Env, claims: LinkClaims): Promise<LinkOutcome<OptOutStatus>> {
  return outcome(claims, await ledgerOfLink(env, claims).optOutStatus(scopeOf(claims), claims.topic));
}

/** Opts out through a link (a form button or an RFC 8058 one-click POST). */
export async function confirmOptOut(env: Env, background: Background, claims: LinkClaims, context: ConfirmationContext): Promise<LinkOutcome<OptOutStatus>> {
  const { proof, meta } = proofOf("opt-out-link", context, { one_click: context.oneClick ?? false });
  const view = await ledgerOfLink(env, claims).optOut(scopeOf(claims), claims.topic, proof);
  feedSoon(env, background, view.appended);
  return outcome(claims, view, { meta });
}
