// `npm run build`: the CLI (dist/cli.js, for Node 20+) and the SDK (dist/sdk/index.js, for any
// runtime with fetch) from their TypeScript sources. Runs on `npm ci`/`npm install` (prepare) and before `npm test`.
import { build } from "esbuild";

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
    platform: "neutral",
    format: "esm",
    target: "es2022",
    logLevel: "warning",
  }),
]);
