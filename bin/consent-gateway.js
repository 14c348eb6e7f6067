#!/usr/bin/env node
// The CLI, built from src/cli/ into dist/ by `npm run build` (run by `npm ci`/`npm install` and before `npm test`).
import("../dist/cli.js").then(
  async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2));
  },
  (error) => {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/cli.js")) {
      console.error("consent-gateway: not built yet; run `npm run build` in the package first.");
      process.exitCode = 2;
    } else throw error;
  },
);
