import type { TestProject } from "vitest/node";
import { startWranglerDev } from "../../scripts/wrangler-dev.ts";
import { E2E_SETTINGS } from "./settings";

/**
 * Global setup of the end-to-end project: the gateway under `wrangler dev`, exactly as `npm run dev`
 * runs it, with fresh local state, migrations applied and its own settings.
 */
export default async function setup(project: TestProject) {
  const dev = await startWranglerDev((baseUrl) => ({ ...E2E_SETTINGS, PUBLIC_BASE_URL: baseUrl }));
  project.provide("gatewayUrl", dev.baseUrl);
  return () => dev.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    gatewayUrl: string;
  }
}
