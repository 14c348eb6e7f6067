// What the deployed bundle takes for zod's locale index (wrangler.toml [alias]): English only.
// zod registers English itself (classic/schemas.js imports locales/en.js directly); the index of
// every language is only reachable through the `z` namespace that @hono/zod-openapi hands around,
// which keeps ~260 KiB of minified messages alive that the gateway never uses.
export { default as en } from "zod/v4/locales/en.js";
