import { spawn } from "node:child_process";
import path from "node:path";
import { expect, it, onTestFinished } from "vitest";

/**
 * `npm run bench -- --quick`: the benchmark with small numbers (its own gateway and primitive worker
 * under wrangler dev, autocannon at both concurrency levels, the bundle, the D1 log count). Targets are shown but not enforced:
 * it exits 0 unless something is broken (an error answer, or a scenario that did not run).
 */

const root = path.resolve(import.meta.dirname, "../..");

const SCENARIOS = [
  ["gateway", "GET /health (no-op)"],
  ["gateway", "list: GET /v1/consent/{id}"],
  ["gateway", "state: GET /v1/consent/{id}/state"],
  ["gateway", "opt-in page: GET opt_in_url"],
  ["gateway", "publish, distinct identifiers"],
  ["gateway", "publish, one hot identifier"],
  ["gateway", "Copilot: POST …/user_copilot_analysis_consent_changed"],
  ["primitive", "GET /noop (no-op)"],
  ["primitive", "read 25 rows of"],
  ["primitive", "insert, distinct objects"],
  ["primitive", "insert, one object"],
] as const;
const LEVELS = [10, 16];

it("bench --quick runs every scenario without an error and prints the table", { timeout: 240_000 }, async () => {
  // The Node 22 that runs the tests runs the script (type stripping), as `npm run bench` does.
  const child = spawn(process.execPath, ["scripts/bench.ts", "--quick"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  // On a timeout too: the script then stops its two wrangler devs.
  onTestFinished(() => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));

  expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
  const lines = stdout.split("\n");
  expect(lines.some((l) => /^worker\s+scenario\s+conns\s+req\/s\s+p50 ms\s+p99 ms\s+errors\s+ratio\s/.test(l)), stdout).toBe(true);
  for (const [worker, scenario] of SCENARIOS) {
    for (const level of LEVELS) {
      // The level, then measured: a throughput and zero errors, not "-" or FAILED.
      const row = lines.find((l) => l.startsWith(`${worker.padEnd(9)}  ${scenario}`) && new RegExp(`\\s${level}\\s+\\d+\\s+\\d+\\.\\d\\s`).test(l));
      expect(row, `no row for ${worker} ${scenario} at ${level} connections:\n${stdout}`).toBeDefined();
      expect(row).toMatch(/\s\d+\s+\d+\.\d\s+\d+\.\d\s+0\s+\d\.\d{3}\s/);
      expect(row).not.toContain("FAILED");
    }
  }
  expect(stdout).toMatch(/^bundle, gzipped: +\d+\.\d KiB/m);
  expect(stdout).toMatch(/^D1 write calls per 1,000 events: +(\d+\.\d \(|n\/a \(no 'fed' log lines\))/m);
  expect(stdout).toMatch(/^Platform operations per 1,000 events/m);
});
