import { describe, expect, it } from "vitest";
import { ConfigError, settings } from "../src/config";

const base = { JWT_ORGANIZATION_CLAIM: "", JWT_JWKS_URL: "", JWT_ISSUER: "", JWT_AUDIENCE: "" } as unknown as Env;
const parse = (overrides: Record<string, string>) => settings({ ...base, ...overrides } as Env);
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
  ])("names the setting that is wrong: %j", (overrides, message) => {
    expect(() => parse(overrides)).toThrow(ConfigError);
    expect(() => parse(overrides)).toThrow(message);
  });
});
