import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, settings } from "../src/config";
import { TEST_PREVIOUS_RECEIPT_KEY, TEST_RECEIPT_KEY } from "./fixtures/credentials";
import { RATE_LIMITERS, type LimiterName } from "./fixtures/rate-limits";

const base = { JWT_ORGANIZATION_CLAIM: "", JWT_JWKS_URL: "", JWT_ISSUER: "", JWT_AUDIENCE: "" } as unknown as Env;
const parse = (overrides: Record<string, string>) => settings({ ...base, ...overrides } as Env);
/** The test keys as the setting, the first and second key changed by `first` and `second`. */
const receiptKeys = (first: Record<string, unknown>, second: Record<string, unknown> = {}) =>
  JSON.stringify([{ ...TEST_RECEIPT_KEY, ...first }, { ...TEST_PREVIOUS_RECEIPT_KEY, ...second }]);
const client = { id: "a", secret_sha256: "A".repeat(64), organization_id: "o" };

describe("settings", () => {
  it("parses API clients, lower-cases digests and treats empty values as unset", () => {
    const parsed = parse({ API_CLIENTS: JSON.stringify([client]) });
    expect(parsed.API_CLIENTS).toEqual([{ ...client, secret_sha256: "a".repeat(64) }]);
    expect(parsed.JWT_JWKS_URL).toBeUndefined();
    expect(parsed.JWT_ORGANIZATION_CLAIM).toBe("organization_id");
    expect(parse({}).API_CLIENTS).toEqual([]);
  });

  it.each([
    [{ API_CLIENTS: "[{" }, "API_CLIENTS is not valid JSON"],
    [{ API_CLIENTS: JSON.stringify([{ ...client, secret_sha256: "xyz" }]) }, "API_CLIENTS [0.secret_sha256] must be 64 hex characters"],
    [{ API_CLIENTS: JSON.stringify([client, client]) }, "API_CLIENTS has duplicate client ids"],
    [{ API_CLIENTS: JSON.stringify([{ ...client, scopes: ["consent:admin"] }]) }, "API_CLIENTS [0.scopes.0]"],
    [{ JWT_JWKS_URL: "not a url" }, "JWT_JWKS_URL"],
    [{ ORGANIZATIONS: "[" }, "ORGANIZATIONS is not valid JSON"],
    [{ ORGANIZATIONS: JSON.stringify({ o: { copilot_required: true } }) }, 'ORGANIZATIONS [o] Unrecognized key: "copilot_required"'],
    [{ ORGANIZATIONS: JSON.stringify({ o: { topics: { T: { lifespan_days: 0 } } } }) }, "ORGANIZATIONS [o.topics.T.lifespan_days]"],
    [{ ORGANIZATIONS: JSON.stringify({ o: { topics: { T: { lifespan: 30 } } } }) }, 'ORGANIZATIONS [o.topics.T] Unrecognized key: "lifespan"'],
    [{ ORGANIZATIONS: JSON.stringify({ o: { topics: { T: { gpc_opt_out: "yes" } } } }) }, "ORGANIZATIONS [o.topics.T.gpc_opt_out]"],
    [{ ORGANIZATIONS: JSON.stringify({ o: { topics: { T: { label: { xx: "Label" } } } } }) }, "ORGANIZATIONS [o.topics.T.label"],
    [{ ORGANIZATIONS: JSON.stringify({ o: { topics: { T: { label: "" } } } }) }, "ORGANIZATIONS [o.topics.T.label"],
    [{ PREFERENCES_LINK_TTL_DAYS: "0" }, "PREFERENCES_LINK_TTL_DAYS"],
    [{ RECEIPT_SIGNING_KEYS: "{" }, "RECEIPT_SIGNING_KEYS is not valid JSON"],
    [{ RECEIPT_SIGNING_KEYS: JSON.stringify(TEST_RECEIPT_KEY) }, "RECEIPT_SIGNING_KEYS must be a JSON array of private JWKs"],
    [{ RECEIPT_SIGNING_KEYS: "[]" }, "RECEIPT_SIGNING_KEYS must list at least one key"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({ d: undefined }) }, "RECEIPT_SIGNING_KEYS [0.d] is missing (the private part: a public key cannot sign)"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({ kid: undefined }) }, "RECEIPT_SIGNING_KEYS [0.kid] is missing (every key needs a kid)"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({ kid: "" }) }, "RECEIPT_SIGNING_KEYS [0.kid] must not be empty"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({}, { kid: TEST_RECEIPT_KEY.kid }) }, "RECEIPT_SIGNING_KEYS has duplicate kids"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({}, { y: undefined }) }, "RECEIPT_SIGNING_KEYS [1.y] is missing"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({ kty: "RSA" }) }, "RECEIPT_SIGNING_KEYS [0.kty] must be an Ed25519 (OKP) or P-256 (EC) key"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({ crv: "X25519" }) }, "RECEIPT_SIGNING_KEYS [0.crv] must be Ed25519"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({}, { crv: "P-384" }) }, "RECEIPT_SIGNING_KEYS [1.crv] must be P-256"],
    [{ RECEIPT_SIGNING_KEYS: receiptKeys({ d: "c2hvcnQ" }) }, "RECEIPT_SIGNING_KEYS [0.d] must be 32 bytes, base64url-encoded"],
    [{ RATE_LIMIT_API: "600" }, 'RATE_LIMIT_API must be "limit/period"'],
    [{ RATE_LIMIT_PUBLIC: "60/30" }, 'RATE_LIMIT_PUBLIC must be "limit/period": a positive whole limit, a period of 10 or 60 seconds'],
    [{ RATE_LIMIT_AUTH_FAILURES: "0/60" }, 'RATE_LIMIT_AUTH_FAILURES must be "limit/period"'],
    [{ RATE_LIMIT_API: "1.5/60" }, 'RATE_LIMIT_API must be "limit/period"'],
  ])("names the setting that is wrong: %j", (overrides, message) => {
    expect(() => parse(overrides)).toThrow(ConfigError);
    expect(() => parse(overrides)).toThrow(message);
    const error = (() => {
      try {
        parse(overrides);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    for (const key of [TEST_RECEIPT_KEY, TEST_PREVIOUS_RECEIPT_KEY]) expect(error).not.toContain(key.d);
  });

  it("parses receipt keys in their order, each with the alg its curve implies", () => {
    expect(parse({ RECEIPT_SIGNING_KEYS: receiptKeys({}) }).RECEIPT_SIGNING_KEYS).toEqual([
      { ...TEST_RECEIPT_KEY, alg: "EdDSA" },
      { ...TEST_PREVIOUS_RECEIPT_KEY, alg: "ES256" },
    ]);
    expect(parse({ RECEIPT_SIGNING_KEYS: " " }).RECEIPT_SIGNING_KEYS).toBeUndefined();
  });

  it("parses the rate limits' mirrors as limit and period", () => {
    expect(parse({ RATE_LIMIT_API: "600/10", RATE_LIMIT_PUBLIC: " " })).toMatchObject({
      RATE_LIMIT_API: { limit: 600, period: 10 },
      RATE_LIMIT_PUBLIC: { limit: 60, period: 60 },
      RATE_LIMIT_AUTH_FAILURES: { limit: 20, period: 60 },
    });
  });

  it("has each rate limit's mirror in wrangler.toml equal to its binding's config, and the defaults equal to both", () => {
    const { ratelimits, vars } = JSON.parse(env.TEST_WRANGLER_LIMITS) as { ratelimits: { name: string; simple: unknown }[]; vars: Record<string, string> };
    expect(ratelimits.map((r) => r.name).sort()).toEqual(Object.keys(RATE_LIMITERS).sort());
    const mirrors = parse(vars);
    const defaults = parse({});
    for (const { name, simple } of ratelimits) {
      const setting = RATE_LIMITERS[name as LimiterName].setting;
      expect(mirrors[setting], `${setting} in [vars]`).toEqual(simple);
      expect(defaults[setting], `${setting}'s default`).toEqual(simple);
    }
  });
});
