import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startWranglerDev } from "../../scripts/wrangler-dev.ts";
import { rateLimitOptions } from "../fixtures/rate-limits";
import { E2E_SETTINGS } from "./settings";
import { crossRequestLines } from "../../scripts/worker-log.ts";

/**
 * Global setup of the end-to-end project: the gateway under `wrangler dev`, exactly as `npm run dev`
 * runs it, with fresh local state, migrations applied and its own settings. Its output goes to a file
 * the tests can read (they run in other processes); a cross-request line in it fails the run.
 */
export default async function setup(project: TestProject) {
  const logDir = mkdtempSync(path.join(tmpdir(), "consent-gateway-e2e-"));
  const log = path.join(logDir, "wrangler-dev.log");
  writeFileSync(log, "");
  let stopped = false;
  // Limits far above the suite's traffic; test/e2e/rate-limits.test.ts runs a gateway with tight ones.
  const limits = rateLimitOptions();
  const dev = await startWranglerDev((baseUrl) => ({ ...E2E_SETTINGS, ...limits.settings, PUBLIC_BASE_URL: baseUrl }), {
    rateLimits: limits.ratelimits,
    // wrangler still says goodbye after the teardown has removed the file.
    onOutput: (chunk) => stopped || appendFileSync(log, chunk),
  });
  project.provide("gatewayUrl", dev.baseUrl);
  project.provide("gatewayLog", log);
  return () => {
    stopped = true;
    dev.stop();
    const offending = crossRequestLines(readFileSync(log, "utf8"));
    rmSync(logDir, { recursive: true, force: true });
    if (offending.length) {
      // vitest prints a teardown's error but has already chosen the exit code by then.
      process.exitCode = 1;
      throw new Error(`The gateway printed ${offending.length} lines of a request awaiting another's promise or I/O:\n${offending.join("\n")}`);
    }
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    gatewayUrl: string;
    /** The file that gets the gateway's output (wrangler dev's and the worker's) as it comes. */
    gatewayLog: string;
  }
}
