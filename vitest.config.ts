import { createServer } from "node:http";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { exportJWK, generateKeyPair } from "jose";
import { defineConfig } from "vitest/config";
import { TEST_CLIENTS, TEST_JWT_SECRET, TEST_OPT_IN_SETTINGS } from "./test/fixtures/credentials.ts";

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

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const jwks = await startJwksServer();
  return {
    test: {
      projects: [
        {
          // Inside the Workers runtime, against real D1 and Durable Objects.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  TEST_JWT_PRIVATE_JWK: JSON.stringify({ ...jwks.privateJwk, kid: "test-rsa", alg: "RS256" }),
                  API_CLIENTS: JSON.stringify(TEST_CLIENTS),
                  JWT_SECRET: TEST_JWT_SECRET,
                  JWT_JWKS_URL: jwks.url,
                  ...TEST_OPT_IN_SETTINGS,
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
