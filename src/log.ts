/**
 * Structured logs: one JSON object per line, so Workers Logs can filter on fields. Callers pass
 * the request id where there is a request, and never a plain identifier (a ledger is named by its
 * Durable Object id, a digest of the organization and identifier).
 */
const LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LEVELS)[number];

/**
 * Writes one line if `level` is at least the LOG_LEVEL setting (default info). The setting is read
 * raw here, not through the parsed settings, so that reporting a broken setting cannot fail too.
 */
export function log(env: { LOG_LEVEL?: string }, level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const configured = LEVELS.indexOf(env.LOG_LEVEL as Level);
  if (LEVELS.indexOf(level) < (configured >= 0 ? configured : LEVELS.indexOf("info"))) return;
  // Looked up per call, so a test's spy on console sees it.
  console[level === "debug" || level === "info" ? "log" : level](JSON.stringify({ level, message, ...fields }));
}

/** An error as loggable fields (an Error's own properties do not survive JSON.stringify). */
export const errorFields = (error: unknown) =>
  error instanceof Error ? { error: { name: error.name, message: error.message, stack: error.stack } } : { error: String(error) };
