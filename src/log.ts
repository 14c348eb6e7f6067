/**
 * Structured logs: one JSON object per line, so Workers Logs can filter on fields. Callers pass
 * the request id where there is a request, and never a plain identifier (a ledger is named by its
 * Durable Object id, a digest of the organization and identifier).
 */
type Level = "info" | "warn" | "error";

export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  // Looked up per call, so a test's spy on console sees it.
  console[level === "info" ? "log" : level](JSON.stringify({ level, message, ...fields }));
}

/** An error as loggable fields (an Error's own properties do not survive JSON.stringify). */
export const errorFields = (error: unknown) =>
  error instanceof Error ? { error: { name: error.name, message: error.message, stack: error.stack } } : { error: String(error) };
