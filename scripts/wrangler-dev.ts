import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { experimental_readRawConfig } from "wrangler";

/**
 * Starts the gateway under `wrangler dev`, exactly as `npm run dev` runs it, on a free loopback port
 * with fresh local state (migrations applied) and the given settings. Used by the end-to-end tests'
 * global setup and by `npm run openapi` (which only needs the served document).
 */

const root = path.resolve(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const offline = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

export interface WranglerDev {
  baseUrl: string;
  /** Ends wrangler and workerd and removes the local state. */
  stop(): void;
}

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

export interface WranglerDevOptions {
  /** Receives wrangler dev's output (stdout and stderr) as it arrives, e.g. the worker's log lines. */
  onOutput?: (chunk: string) => void;
  /** Another worker's wrangler config (the benchmark's primitive worker); it has no D1 to migrate. */
  config?: string;
  /**
   * The gateway's rate limiters in place of wrangler.toml's (which a command line cannot change):
   * run from a copy of wrangler.toml that differs only in them. Pass their mirrors in `settings`.
   */
  rateLimits?: Record<string, { namespace_id: string; simple: { limit: number; period: 10 | 60 } }>;
}

/** wrangler.toml as a JSON config in `dir` with `rateLimits`, its paths made absolute (they are relative to the config's own directory). */
function withRateLimits(dir: string, rateLimits: NonNullable<WranglerDevOptions["rateLimits"]>): string {
  const { rawConfig } = experimental_readRawConfig({ config: path.join(root, "wrangler.toml") });
  const absolute = (p: string) => path.resolve(root, p);
  const config = {
    ...rawConfig,
    main: absolute(rawConfig.main!),
    alias: Object.fromEntries(Object.entries(rawConfig.alias ?? {}).map(([from, to]) => [from, absolute(String(to))])),
    d1_databases: (rawConfig.d1_databases as { migrations_dir?: string }[] | undefined)?.map((db) => ({ ...db, ...(db.migrations_dir ? { migrations_dir: absolute(db.migrations_dir) } : {}) })),
    ratelimits: Object.entries(rateLimits).map(([name, limiter]) => ({ name, ...limiter })),
  };
  const file = path.join(dir, "wrangler.json");
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** `settings` receives the base URL (for settings such as PUBLIC_BASE_URL) and answers the env file's variables. */
export async function startWranglerDev(
  settings: (baseUrl: string) => Record<string, string> = () => ({}),
  options: WranglerDevOptions = {},
): Promise<WranglerDev> {
  const state = mkdtempSync(path.join(tmpdir(), "consent-gateway-dev-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const envFile = path.join(state, "dev.env");
  const values = settings(baseUrl);
  writeFileSync(
    envFile,
    Object.entries(values)
      .map(([k, v]) => `${k}='${v}'`)
      .join("\n"),
  );
  // wrangler also reads secrets from its own environment, which would override the env file's.
  const env = { ...offline };
  for (const name of Object.keys(values)) Reflect.deleteProperty(env, name);

  const config = options.config ?? (options.rateLimits ? withRateLimits(state, options.rateLimits) : undefined);
  if (!options.config) {
    const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state, ...(config ? ["-c", config] : [])], {
      cwd: root,
      env: offline,
      encoding: "utf8",
    });
    if (migrate.status !== 0) {
      rmSync(state, { recursive: true, force: true });
      throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
    }
  }

  let output = "";
  const child = spawn(
    wrangler,
    [
      "dev",
      ...(config ? ["-c", config] : []),
      ...["--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--env-file", envFile, "--show-interactive-dev-session=false"],
    ],
    { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const onData = (chunk: Buffer) => {
    output += chunk;
    options.onOutput?.(chunk.toString());
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const stop = () => {
    // wrangler starts workerd as a child: end the whole process group.
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {}
    // workerd may still be writing its objects' files for a moment after the signal.
    rmSync(state, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
  };
  try {
    await waitUntilUp(baseUrl, child, () => output);
  } catch (error) {
    stop();
    throw error;
  }
  return { baseUrl, stop };
}
