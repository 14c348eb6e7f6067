import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { exportJWK, generateKeyPair } from "jose";
import { defineConfig } from "vitest/config";
import { experimental_readRawConfig } from "wrangler";
import { rateLimitOptions } from "./test/fixtures/rate-limits.ts";
import { TEST_CLIENTS, TEST_ORGANIZATIONS, TEST_IDENTIFIER_KEY, TEST_JWT_SECRET, TEST_OPT_IN_SETTINGS, TEST_RECEIPT_SIGNING_KEYS } from "./test/fixtures/credentials.ts";

/**
 * A real identity provider's key endpoint, on loopback, for the RS256 tests: the private key goes to
 * the tests as a binding, the public one is served as a JWKS that the worker fetches.
 */
async function startJwksServer() {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "test-rsa", alg: "RS256", use: "sig" }] };
  const server = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, privateJwk: await exportJWK(privateKey) };
}

/**
 * The pool has wrangler read wrangler.toml for every test file, and wrangler then looks for the
 * secrets it requires in .dev.vars (else process.env), announces where it found them and warns about
 * each one missing, although the worker gets them as bindings. Give wrangler the tests' values, and
 * keep its announcements (level "log") out of a passing run's output; warnings and errors still show.
 */
function quietWrangler(required: string[], secrets: Record<string, string>) {
  for (const name of required) process.env[name] ??= secrets[name];
  process.env.WRANGLER_LOG ??= "warn";
}

/**
 * standardwebhooks ships a source map whose sources it does not ship, and Vite warns about it on
 * every run: load its files without the map comment, so a passing run stays quiet.
 */
const withoutMissingSourceMaps = {
  name: "without-missing-source-maps",
  load(id: string) {
    if (!/[\\/]node_modules[\\/]standardwebhooks[\\/].*\.js$/.test(id)) return undefined;
    return readFileSync(id, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "");
  },
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const jwks = await startJwksServer();
  const { rawConfig } = experimental_readRawConfig({ config: path.join(import.meta.dirname, "wrangler.toml") });
  const limits = rateLimitOptions();
  const settings: Record<string, string> = {
    API_CLIENTS: JSON.stringify(TEST_CLIENTS),
    JWT_SECRET: TEST_JWT_SECRET,
    JWT_JWKS_URL: jwks.url,
    IDENTIFIER_KEY: TEST_IDENTIFIER_KEY,
    // The tests' gateway is an upgraded deployment: it holds ledgers named the old way.
    LEGACY_LEDGERS: "adopt",
    RECEIPT_SIGNING_KEYS: TEST_RECEIPT_SIGNING_KEYS,
    ORGANIZATIONS: JSON.stringify(TEST_ORGANIZATIONS),
    ...TEST_OPT_IN_SETTINGS,
    ...limits.settings,
  };
  quietWrangler(rawConfig.secrets?.required ?? [], settings);
  return {
    test: {
      projects: [
        {
          // Inside the Workers runtime, against real D1 and Durable Objects.
          plugins: [
            withoutMissingSourceMaps,
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                ratelimits: limits.ratelimits,
                bindings: {
                  // wrangler.toml's [vars] as written: a developer's .dev.vars (which wrangler also
                  // reads) changes nothing here.
                  ...rawConfig.vars,
                  TEST_MIGRATIONS: migrations,
                  TEST_JWT_PRIVATE_JWK: JSON.stringify({ ...jwks.privateJwk, kid: "test-rsa", alg: "RS256" }),
                  // wrangler.toml's limiters and [vars] as written, to check the mirrors against (test/config.test.ts).
                  TEST_WRANGLER_LIMITS: JSON.stringify({ ratelimits: rawConfig.ratelimits ?? [], vars: rawConfig.vars ?? {} }),
                  ...settings,
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/e2e/**"],
            setupFiles: ["./test/setup/apply-migrations.ts"],
          },
        },
        {
          // In Node, against the gateway running under `wrangler dev`.
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            globalSetup: ["./test/e2e/wrangler-dev.ts"],
            testTimeout: 30_000,
            hookTimeout: 90_000,
          },
        },
      ],
    },
  };
});
