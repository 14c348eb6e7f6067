/** The command line's flags: the tables parseArgs reads them by, and the values that have a syntax of their own. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./usage";

/** `consent-gateway consent …` */
export const CALL_OPTIONS = {
  param: { type: "string", short: "p", multiple: true },
  data: { type: "string", short: "d" },
  header: { type: "string", short: "H", multiple: true },
  token: { type: "string", short: "t" },
  basic: { type: "string" },
  profile: { type: "string" },
  server: { type: "string", short: "s" },
  include: { type: "boolean", short: "i" },
  json: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  jsonata: { type: "string" },
  output: { type: "string", short: "o" },
  definition: { type: "string" },
  guided: { type: "boolean" },
  "no-interactive": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** `consent-gateway profile …` */
export const PROFILE_OPTIONS = {
  server: { type: "string", short: "s" },
  token: { type: "string", short: "t" },
  basic: { type: "string" },
  header: { type: "string", short: "H", multiple: true },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export function parse<O extends ParseArgsConfig["options"]>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `value` split at its first `separator`, which must follow something: else bad usage of `flag`. */
function split(value: string, separator: string, flag: string, expected: string): [string, string] {
  const at = value.indexOf(separator);
  if (at <= 0) throw new UsageError(`${flag} '${value}': expected ${expected}`);
  return [value.slice(0, at), value.slice(at + separator.length)];
}

/** -p key=value, repeated. */
export function parseParams(values: readonly string[] = []): Record<string, string> {
  return Object.fromEntries(values.map((value) => split(value, "=", "-p", "key=value")));
}

/** -H 'Key: Value', repeated. */
export function parseHeaders(values: readonly string[] = []): Record<string, string> {
  return Object.fromEntries(values.map((value) => split(value, ":", "-H", "'Key: Value'").map((part) => part.trim())));
}

/** --basic <client_id>:<secret>, as [client_id, secret]. */
export function parseBasic(value: string): [string, string] {
  return split(value, ":", "--basic", "<client_id>:<secret>");
}
