import { onTestFinished, vi } from "vitest";

/**
 * Captures what the worker writes to the console while a test injects a fault on purpose, so the
 * expected log is asserted instead of printed. The Durable Objects run in the test's isolate, so
 * their console is this one. Every level is captured (the gateway's log lines are JSON objects
 * written with console.log, warn or error); the console is restored when the test finishes.
 */
export function captureConsole() {
  const spies = (["log", "warn", "error"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
  const restore = () => spies.forEach((spy) => spy.mockRestore());
  onTestFinished(restore);
  return {
    /** Each call so far, its arguments joined into one string. */
    lines: () => spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" "))),
    restore,
  };
}
