import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { basic, list } from "../helpers/gateway";
import { callWith, wrapLimiter } from "../helpers/limits";
import { CONTENT_TYPES, field, objectText } from "./arbitraries";

const WRITES = [
  ["/v1/consent/publish", (id: string) => ({ type: field(fc.constant('"OPT_IN"')), topic: field(fc.constant('"NEWSLETTER"')), source: field(fc.constant('"web"')), identifier: field(fc.constant(id)) })],
  ["/v1/consent/double-opt-in", (id: string) => ({ topic: field(fc.constant('"NEWSLETTER"')), identifier: field(fc.constant(id)) })],
  ["/v2/api/report/user_copilot_analysis_consent_changed", (id: string) => ({ consent_value: field(fc.constantFrom("true", "false")), user_id: field(fc.constant(id)) })],
] as const;

describe("property: a request over the organization's limit is a 429 that records nothing", { timeout: 60_000 }, () => {
  it.each(WRITES)("%s, whatever its body, content type or Idempotency-Key", (path, members) =>
    fc.assert(
      fc.asyncProperty(
        fc.uuid().chain((uuid) => {
          const identifier = `limited-${uuid}@example.com`;
          return fc.record({
            identifier: fc.constant(identifier),
            body: objectText(members(JSON.stringify(identifier))),
            contentType: fc.constantFrom(...CONTENT_TYPES),
            idempotencyKey: fc.option(fc.uuid(), { nil: undefined }),
          });
        }),
        async ({ identifier, body, contentType, idempotencyKey }) => {
          const { binding } = wrapLimiter(env.API_RATE_LIMITER);
          const headers: Record<string, string> = { Authorization: basic("acme"), ...(contentType ? { "Content-Type": contentType } : {}) };
          if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
          const response = await callWith({ API_RATE_LIMITER: binding }, path, { method: "POST", headers, body });
          expect(response.status, body).toBe(429);
          expect(response.headers.get("Retry-After"), body).toMatch(/^\d+$/);
          await response.body?.cancel();
          expect((await (await list(identifier)).json<{ total: number }>()).total, body).toBe(0);
        },
      ),
      { numRuns: 50 },
    ),
  );
});
