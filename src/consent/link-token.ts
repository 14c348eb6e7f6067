import { base64url, decodeProtectedHeader, errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { hmacKey } from "../hmac-key";
import { LinkRefused } from "./errors";

/** What a signed link lets its holder do. */
export type LinkPurpose = "opt-in" | "opt-out";
/** Every kind of signed token: each has its own audience, so none is accepted for another. */
type TokenPurpose = LinkPurpose | "preferences";

/**
 * What a link is bound to. The identifier itself is not in the link (links end up in logs and
 * scanners): the ledger id, derived from (organization, identifier), stands for it.
 */
export interface LinkClaims {
  purpose: LinkPurpose;
  organizationId: string;
  ledgerId: string;
  topic: string;
  /** opt-in: the sequence of the DOUBLE_OPT_IN_REQUESTED event being confirmed. */
  requestSequence?: number;
  /** Where to offer to go after success; checked against the organization's origins when signed. */
  redirectUrl?: string;
  /** The generation of the history it was signed for (1 until the first erasure): a later one's ledger refuses it. */
  generation: number;
  expiresAt: Date;
}

/** The signing key and the former keys that still verify. */
export interface KeyRing {
  current: string;
  previous: string[];
}

const encoder = new TextEncoder();
/** Key ids per secret: computed strings, never a pending digest (a request must not await another's promise). */
const kids = new Map<string, string>();

/** A key's id: a short digest of it, so rotating needs no naming scheme and reveals nothing. */
async function kidOf(secret: string): Promise<string> {
  let kid = kids.get(secret);
  if (!kid) {
    const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`consent-gateway link key:${secret}`));
    kid = base64url.encode(new Uint8Array(digest).slice(0, 9));
    kids.set(secret, kid);
  }
  return kid;
}

const audience = (purpose: TokenPurpose) => `consent-gateway:${purpose}`;

/** What a caller signs: the claims without their expiry, the generation 1 unless said. */
export type ToSign<C extends { expiresAt: Date; generation: number }> = Omit<C, "expiresAt" | "generation"> & { generation?: number };

/** The `gen` claim: absent for generation 1 (so links signed before erasures existed read as it). */
const GENERATION = z.number().int().min(2).optional();
/** The `gen` claim for a generation, absent for the first. */
const generationClaim = (generation: number): { gen?: number } => (generation > 1 ? { gen: generation } : {});

const payloadSchema = z.object({
  sub: z.string().regex(/^[0-9a-f]{64}$/),
  org: z.string().min(1),
  topic: z.string().min(1),
  req: z.number().int().positive().optional(),
  ru: z.url().optional(),
  gen: GENERATION,
  exp: z.number(),
});

/** Signs `claims` for `purpose` about the ledger `subject` with the current key (its kid in the header). */
async function signToken(
  purpose: TokenPurpose,
  subject: string,
  claims: Record<string, string | number>,
  keys: KeyRing,
  { ttlSeconds, now = new Date() }: { ttlSeconds: number; now?: Date },
): Promise<{ token: string; expiresAt: Date }> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + ttlSeconds) * 1000);
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", kid: await kidOf(keys.current) })
    .setSubject(subject)
    .setAudience(audience(purpose))
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(await hmacKey(keys.current));
  return { token, expiresAt };
}

export function signLink(
  claims: ToSign<LinkClaims>,
  keys: KeyRing,
  options: { ttlSeconds: number; now?: Date },
): Promise<{ token: string; expiresAt: Date }> {
  const payload = {
    org: claims.organizationId,
    topic: claims.topic,
    ...(claims.requestSequence === undefined ? {} : { req: claims.requestSequence }),
    ...(claims.redirectUrl === undefined ? {} : { ru: claims.redirectUrl }),
    ...generationClaim(claims.generation ?? 1),
  };
  return signToken(claims.purpose, claims.ledgerId, payload, keys, options);
}

/** The `org` claim of a payload whose signature verified, to brand the refusal page. */
function organizationOf(payload: unknown): string | undefined {
  const org = (payload as { org?: unknown } | null)?.org;
  return typeof org === "string" ? org : undefined;
}

/** Verifies a token's key, signature, audience and expiry; answers its payload, or throws LinkRefused saying why not. */
async function verifyToken(token: string, purpose: TokenPurpose, keys: KeyRing, now: Date): Promise<unknown> {
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== "HS256") throw new LinkRefused("invalid");
    kid = header.kid;
  } catch {
    throw new LinkRefused("invalid");
  }
  let secret: string | undefined;
  for (const candidate of [keys.current, ...keys.previous]) {
    if ((await kidOf(candidate)) === kid) secret = candidate;
  }
  if (!secret) throw new LinkRefused("unknown_key");
  try {
    return (
      await jwtVerify(token, await hmacKey(secret), {
        algorithms: ["HS256"],
        audience: audience(purpose),
        currentDate: now,
        requiredClaims: ["exp", "sub"],
      })
    ).payload;
  } catch (error) {
    // jose checks the signature before the claims, so an expired link's organization is genuine.
    if (error instanceof errors.JWTExpired) throw new LinkRefused("expired", organizationOf(error.payload));
    throw new LinkRefused("invalid");
  }
}

/** Verifies a link for `purpose`; throws LinkRefused saying why not. */
export async function verifyLink(
  token: string,
  purpose: LinkPurpose,
  keys: KeyRing,
  { now = new Date() }: { now?: Date } = {},
): Promise<LinkClaims> {
  const payload = await verifyToken(token, purpose, keys, now);
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success || (purpose === "opt-in") !== (parsed.data.req !== undefined)) {
    throw new LinkRefused("invalid", organizationOf(payload));
  }
  const { sub, org, topic, req, ru, gen, exp } = parsed.data;
  return {
    purpose,
    organizationId: org,
    ledgerId: sub,
    topic,
    ...(req === undefined ? {} : { requestSequence: req }),
    ...(ru === undefined ? {} : { redirectUrl: ru }),
    generation: gen ?? 1,
    expiresAt: new Date(exp * 1000),
  };
}

/**
 * What a preference page link is bound to: one person's history (its ledger) in one organization,
 * every topic. Its audience is its own, so no opt-in or opt-out link is one, nor the reverse.
 */
export interface PreferencesClaims {
  organizationId: string;
  ledgerId: string;
  /** As LinkClaims' generation: a link to an erased history stays dead. */
  generation: number;
  expiresAt: Date;
}

const preferencesPayload = z.strictObject({
  aud: z.literal(audience("preferences")),
  sub: z.string().regex(/^[0-9a-f]{64}$/),
  org: z.string().min(1),
  gen: GENERATION,
  iat: z.number(),
  exp: z.number(),
});

export function signPreferencesLink(
  claims: ToSign<PreferencesClaims>,
  keys: KeyRing,
  options: { ttlSeconds: number; now?: Date },
): Promise<{ token: string; expiresAt: Date }> {
  return signToken("preferences", claims.ledgerId, { org: claims.organizationId, ...generationClaim(claims.generation ?? 1) }, keys, options);
}

/** Verifies a preference page link; throws LinkRefused saying why not. */
export async function verifyPreferencesLink(token: string, keys: KeyRing, { now = new Date() }: { now?: Date } = {}): Promise<PreferencesClaims> {
  const payload = await verifyToken(token, "preferences", keys, now);
  const parsed = preferencesPayload.safeParse(payload);
  if (!parsed.success) throw new LinkRefused("invalid", organizationOf(payload));
  return { organizationId: parsed.data.org, ledgerId: parsed.data.sub, generation: parsed.data.gen ?? 1, expiresAt: new Date(parsed.data.exp * 1000) };
}
