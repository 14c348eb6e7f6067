/**
 * Named profiles: `$XDG_CONFIG_HOME/consent-gateway/profiles.json` (default
 * `~/.config/consent-gateway/`), readable by its owner only (0600) since it holds credentials.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { UsageError } from "./usage";

export interface Profile {
  server?: string;
  /** A Bearer token (JWT). */
  token?: string;
  /** An API client's `id:secret`, sent as HTTP Basic. */
  basic?: string;
  headers?: Record<string, string>;
}

export interface ProfileStore {
  /** The profile `profile use` chose. */
  current?: string;
  profiles: Record<string, Profile>;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homedir(), ".config");
  return path.join(base, "consent-gateway");
}

export function profilesFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), "profiles.json");
}

export function readProfiles(env: NodeJS.ProcessEnv = process.env): ProfileStore {
  const file = profilesFile(env);
  if (!existsSync(file)) return { profiles: {} };
  try {
    const store = JSON.parse(readFileSync(file, "utf8")) as ProfileStore;
    return { current: store.current, profiles: store.profiles ?? {} };
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON (${(error as Error).message})`);
  }
}

export function writeProfiles(store: ProfileStore, env: NodeJS.ProcessEnv = process.env): string {
  const file = profilesFile(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The profile to use: `--profile`, else CONSENT_GATEWAY_PROFILE, else the one `profile use` chose. */
export function chooseProfile(store: ProfileStore, name: string | undefined, env: NodeJS.ProcessEnv = process.env): [string, Profile] | undefined {
  const wanted = name ?? env.CONSENT_GATEWAY_PROFILE ?? store.current;
  if (!wanted) return undefined;
  const profile = store.profiles[wanted];
  if (!profile) {
    if (name ?? env.CONSENT_GATEWAY_PROFILE) throw new UsageError(`no profile named "${wanted}" (see: consent-gateway profile list)`);
    return undefined;
  }
  return [wanted, profile];
}
