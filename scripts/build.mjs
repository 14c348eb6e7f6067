// `npm run build`: the CLI (dist/cli.js, for Node 20+) and the SDK (dist/sdk/index.js, for any
// runtime with fetch, with its declarations dist/sdk/*.d.ts, which the package's `exports` name)
// from their TypeScript sources. Runs on `npm ci`/`npm install` (prepare) and before `npm test`.
import { execFile } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { build } from "esbuild";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync("dist/sdk", { recursive: true, force: true });

await Promise.all([
  build({
    entryPoints: ["src/cli/main.ts"],
    outfile: "dist/cli.js",
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  }),
  build({
    entryPoints: ["src/sdk/index.ts"],
    outfile: "dist/sdk/index.js",
    bundle: true,
    // Its dependencies (openapi-fetch, standardwebhooks) stay imports, installed beside it.
    packages: "external",
    platform: "neutral",
    format: "esm",
    target: "es2022",
    logLevel: "warning",
  }),
  // Type-checks the SDK with its own tsconfig (no Node or Workers globals) while emitting.
  promisify(execFile)(process.execPath, [tsc, "-p", "src/sdk/tsconfig.json"]).catch((error) => {
    process.stderr.write(error.stdout || error.message);
    process.exit(1);
  }),
]);
// tsc does not copy .d.ts sources: the generated schema is one.
cpSync("src/sdk/generated/schema.d.ts", "dist/sdk/generated/schema.d.ts");
