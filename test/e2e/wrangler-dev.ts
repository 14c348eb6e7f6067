import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { E2E_SETTINGS } from "./settings";

const root = path.resolve(import.meta.dirname, "../..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const offline = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitUntilUp(url: string, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log()}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`wrangler dev did not start within 60 s:\n${log()}`);
}

/**
 * Global setup of the end-to-end project: the gateway under `wrangler dev`, exactly as `npm run dev`
 * runs it, with fresh local state, migrations applied and its own settings.
 */
export default async function setup(project: TestProject) {
  const state = mkdtempSync(path.join(tmpdir(), "consent-gateway-e2e-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const envFile = path.join(state, "e2e.env");
  const settings = { ...E2E_SETTINGS, PUBLIC_BASE_URL: baseUrl };
  writeFileSync(envFile, Object.entries(settings).map(([k, v]) => `${k}='${v}'`).join("\n"));

  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: root,
    env: offline,
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

  let output = "";
  const child = spawn(
    wrangler,
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--env-file", envFile, "--show-interactive-dev-session=false"],
    { cwd: root, env: offline, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  await waitUntilUp(baseUrl, child, () => output);

  project.provide("gatewayUrl", baseUrl);
  return () => {
    // wrangler starts workerd as a child: end the whole process group.
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {}
    rmSync(state, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    gatewayUrl: string;
  }
}
