import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KeysUnavailable, verifyBearer } from "../../src/auth/bearer";
import { settings } from "../../src/config";
import { rs256 } from "../helpers/gateway";

describe("verifyBearer", () => {
  it("tells an unreachable identity provider (retry later) from a bad token", async () => {
    const unreachable = { ...settings(env), JWT_JWKS_URL: "http://127.0.0.1:9/.well-known/jwks.json" };
    const token = (await rs256({ organization_id: "org-acme" })).slice("Bearer ".length);
    await expect(verifyBearer(token, unreachable)).rejects.toBeInstanceOf(KeysUnavailable);
    await expect(verifyBearer(token, settings(env))).resolves.toMatchObject({ organizationId: "org-acme", scheme: "bearer" });
  });
});
