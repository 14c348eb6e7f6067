/** The package's version, for --version. */
import { readFileSync } from "node:fs";

export function version(): string {
  try {
    // Resolved from the bundle, dist/cli.js: the package root's package.json.
    return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
  } catch {
    return "unknown";
  }
}
