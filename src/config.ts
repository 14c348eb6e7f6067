import { z } from "zod";
import { LANGUAGES } from "./languages";

/** Scopes a principal can hold. */
export const SCOPES = ["consent:read", "consent:write", "consent:erase", "webhooks:manage"] as const;
export type Scope = (typeof SCOPES)[number];
/**
 * What a credential that names no scopes gets: reading and writing. Erasing a person's history and
 * managing webhooks are never implied; a credential must name them.
 */
export const DEFAULT_SCOPES: readonly Scope[] = ["consent:read", "consent:write"];

const apiClientSchema = z.object({
  id: z.string().min(1),
  secret_sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters (the SHA-256 of the secret)")
    .transform((hex) => hex.toLowerCase()),
  organization_id: z.string().min(1),
  scopes: z.array(z.enum(SCOPES)).optional(),
});
export type ApiClient = z.infer<typeof apiClientSchema>;

const jsonSetting = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "is not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** Treats a blank setting as unset: `[vars]` and .dev.vars spell "not set" as an empty value. */
const unlessBlank = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : typeof v === "string" ? v.trim() : v), schema);

const httpsUrl = z.url({ protocol: /^https?$/ });
const colour = z.string().regex(/^#[0-9a-fA-F]{3,8}$/, "must be a hex colour like #0a7d55");

const label = z.string().min(1).max(200);
/** What the pages call a topic: one label, or one per language (the others fall back to English, then the topic id). */
const topicLabel = z.union([label, z.partialRecord(z.enum(LANGUAGES), label)]);
export type TopicLabel = z.infer<typeof topicLabel>;

/** How an organization's opt-in pages look, and where people may be sent after confirming. */
const brandingSchema = z.object({
  name: z.string().min(1).max(100).optional(),
  logo_url: httpsUrl.optional(),
  primary_color: colour.optional(),
  privacy_policy_url: httpsUrl.optional(),
  /** Origins (scheme://host[:port]) a `redirect_url` may point to. */
  redirect_origins: z.array(httpsUrl.transform((url) => new URL(url).origin)).default([]),
  topic_labels: z.record(z.string(), topicLabel).default({}),
});
export type Branding = z.infer<typeof brandingSchema>;

/** A base64url-encoded 32-byte value: every coordinate and private part of Ed25519 and P-256 keys. */
const b64url32 = z.string({ error: "is missing" }).regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes, base64url-encoded");
const privatePart = z.string({ error: "is missing (the private part: a public key cannot sign)" }).regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes, base64url-encoded");
const kid = z.string({ error: "is missing (every key needs a kid)" }).min(1, "must not be empty").max(200);

/** A private JWK that signs receipts; `alg` is implied by the curve (README "Receipts"). */
const receiptKeySchema = z.discriminatedUnion(
  "kty",
  [
    z
      .object({ kty: z.literal("OKP"), crv: z.literal("Ed25519", "must be Ed25519"), x: b64url32, d: privatePart, kid })
      .transform((key) => ({ ...key, alg: "EdDSA" as const })),
    z
      .object({ kty: z.literal("EC"), crv: z.literal("P-256", "must be P-256"), x: b64url32, y: b64url32, d: privatePart, kid })
      .transform((key) => ({ ...key, alg: "ES256" as const })),
  ],
  { error: "must be an Ed25519 (OKP) or P-256 (EC) key" },
);
export type ReceiptKey = z.output<typeof receiptKeySchema>;

/** An organization's consent rules: whether Copilot analysis needs consent, and per topic a lifespan of grants and the current notice version. */
const organizationSchema = z.strictObject({
  copilot_consent_required: z.boolean().optional(),
  topics: z
    .record(
      z.string().min(1).max(200),
      z.strictObject({
        lifespan_days: z.number().int().min(1).max(36500).optional(),
        notice_version: z.string().min(1).max(200).optional(),
        /** What the preference page calls the topic (OPT_IN_BRANDING's topic_labels, when set, come first). */
        label: topicLabel.optional(),
        /** Whether a Global Privacy Control signal (Sec-GPC: 1) opts the person out of it on the preference page. */
        gpc_opt_out: z.boolean().optional(),
      }),
    )
    .optional(),
});
export type OrganizationRules = z.infer<typeof organizationSchema>;

const days = (fallback: number) => unlessBlank(z.coerce.number().int().min(1).max(3650).default(fallback));

/**
 * A mirror of a [[ratelimits]] binding's `simple` config, "limit/period" (e.g. "1200/60"): the
 * binding enforces it and cannot be asked for it, so the 429's RateLimit-Policy header reads it here.
 */
const rateLimit = (fallback: string) =>
  unlessBlank(
    z
      .string()
      .default(fallback)
      .transform((text, ctx) => {
        const match = /^(\d{1,9})\/(10|60)$/.exec(text);
        if (!match || Number(match[1]) < 1) {
          ctx.addIssue({ code: "custom", message: 'must be "limit/period": a positive whole limit, a period of 10 or 60 seconds' });
          return z.NEVER;
        }
        return { limit: Number(match[1]), period: Number(match[2]) as 10 | 60 };
      }),
  );

const settingsSchema = z.object({
  API_CLIENTS: unlessBlank(
    jsonSetting(
      z.array(apiClientSchema).refine((clients) => new Set(clients.map((c) => c.id)).size === clients.length, "has duplicate client ids"),
    ).default([]),
  ),
  JWT_SECRET: unlessBlank(z.string().optional()),
  JWT_JWKS_URL: unlessBlank(httpsUrl.optional()),
  JWT_ISSUER: unlessBlank(z.string().optional()),
  JWT_AUDIENCE: unlessBlank(z.string().optional()),
  JWT_ORGANIZATION_CLAIM: unlessBlank(z.string().default("organization_id")),
  /** Longest a bearer token may live (exp minus iat, or minus now without iat). */
  JWT_MAX_LIFETIME_SECONDS: unlessBlank(z.coerce.number().int().min(60).max(31 * 24 * 60 * 60).default(24 * 60 * 60)),
  /** The key of the identifier hash that names each ledger (README "Identifiers"); changing it re-homes every history. */
  IDENTIFIER_KEY: unlessBlank(z.string().min(32, "must be at least 32 characters").optional()),
  /** `adopt`: a ledger takes over the history its identifier had under the naming before 0.2 (README "Identifiers"); `none` (default): no such ledgers exist. */
  LEGACY_LEDGERS: unlessBlank(z.enum(["adopt", "none"]).default("none")),
  OPT_IN_SIGNING_KEY: unlessBlank(z.string().min(32, "must be at least 32 characters").optional()),
  OPT_IN_PREVIOUS_SIGNING_KEYS: unlessBlank(
    z
      .string()
      .transform((v) => v.split(/\s+/))
      .pipe(z.array(z.string().min(32, "must be at least 32 characters each")))
      .default([]),
  ),
  /** Receipt signing keys (private JWKs): the first signs, all are published (README "Receipts"). */
  RECEIPT_SIGNING_KEYS: unlessBlank(
    jsonSetting(
      z
        .array(receiptKeySchema, { error: "must be a JSON array of private JWKs" })
        .min(1, "must list at least one key")
        .refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, "has duplicate kids"),
    ).optional(),
  ),
  PUBLIC_BASE_URL: unlessBlank(httpsUrl.transform((url) => url.replace(/\/+$/, "")).optional()),
  DEFAULT_LANGUAGE: unlessBlank(z.enum(LANGUAGES).default("de")),
  OPT_IN_TTL_DAYS: days(30),
  OPT_OUT_TTL_DAYS: days(365),
  PREFERENCES_LINK_TTL_DAYS: days(365),
  LOG_LEVEL: unlessBlank(z.enum(["debug", "info", "warn", "error"]).default("info")),
  OPT_IN_BRANDING: unlessBlank(jsonSetting(z.record(z.string(), brandingSchema)).default({})),
  /** Organization id -> its consent rules (README "State"). */
  ORGANIZATIONS: unlessBlank(jsonSetting(z.record(z.string().min(1), organizationSchema)).default({})),
  /** Mirrors of the rate limiters' bindings (README "Rate limits"). */
  RATE_LIMIT_API: rateLimit("1200/60"),
  RATE_LIMIT_PUBLIC: rateLimit("60/60"),
  RATE_LIMIT_AUTH_FAILURES: rateLimit("20/60"),
  /** `true`: webhook endpoints may also be http://127.0.0.1:* and http://localhost:* (local development only; README "Webhooks"). */
  WEBHOOKS_ALLOW_LOCALHOST: unlessBlank(z.enum(["true", "false"]).default("false")).transform((v) => v === "true"),
});

export type Settings = z.output<typeof settingsSchema>;
export type RateLimitPolicy = Settings["RATE_LIMIT_API"];

/** A setting the operator got wrong: reported as a 500 naming the setting, never the value. */
export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`${setting} ${message}`);
  }
}

const parsed = new WeakMap<object, Settings>();

/** Parses the worker's bindings once per env object (i.e. once per isolate). */
export function settings(env: Env): Settings {
  let result = parsed.get(env);
  if (!result) {
    const outcome = settingsSchema.safeParse(env);
    if (!outcome.success) {
      const issue = outcome.error.issues[0]!;
      const [setting, ...rest] = issue.path.map(String);
      throw new ConfigError(setting ?? "configuration", `${rest.length ? `[${rest.join(".")}] ` : ""}${issue.message}`);
    }
    result = outcome.data;
    parsed.set(env, result);
  }
  return result;
}

/** The key of identifier hashes, commitments and idempotency record names: a ConfigError when unset. */
export function identifierKey(env: Env): string {
  const key = settings(env).IDENTIFIER_KEY;
  if (!key) throw new ConfigError("IDENTIFIER_KEY", "is not set");
  return key;
}
