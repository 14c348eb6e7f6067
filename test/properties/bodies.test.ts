import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { basic, call, list } from "../helpers/gateway";
import { CONTENT_TYPES, expectRefusal, expectSuccessOrRefusal, field, hostileString, jsonText, objectText, RUNS } from "./arbitraries";

const post = (path: string, body: string | Uint8Array, contentType = "application/json") =>
  call(path, { method: "POST", headers: { ...(contentType ? { "Content-Type": contentType } : {}), Authorization: basic("acme") }, body });

/** A person nobody else writes for, so a refused request can be checked to have written nothing. */
const freshIdentifier = fc.uuid().map((id) => JSON.stringify(`fuzz-${id}@example.com`));

async function historySize(identifierToken: string | undefined) {
  if (identifierToken === undefined) return 0;
  const identifier = JSON.parse(identifierToken) as string;
  return (await (await list(identifier)).json<{ total: number }>()).total;
}

describe("property: every body gets its success or a well-formed 4xx, and a refusal writes nothing", () => {
  it("POST /v1/consent/publish", async () => {
    await fc.assert(
      fc.asyncProperty(
        freshIdentifier.chain((identifier) =>
          objectText({
            type: field(fc.constantFrom('"OPT_IN"', '"OPT_OUT"')),
            topic: field(fc.constantFrom('"NEWSLETTER"', '"T"')),
            source: field(fc.constant('"web"')),
            identifier: field(fc.constant(identifier)),
            meta: field(fc.constant('{"a":1}')),
          }).map((body) => ({ identifier, body })),
        ),
        async ({ identifier, body }) => {
          const response = await post("/v1/consent/publish", body);
          if (await expectSuccessOrRefusal(response, 201, "epilot", body)) {
            // Accepted: what is stored is what was sent.
            const sent = JSON.parse(body);
            const stored = await response.json<Record<string, unknown>>();
            expect(JSON.stringify(stored.meta), body).toBe(JSON.stringify(sent.meta));
            expect(stored.topic, body).toBe(sent.topic);
            // And the person's history stays readable (a lone surrogate once broke it for good).
            const history = await list(sent.identifier);
            expect(history.status, body).toBe(200);
            expect((await history.json<{ total: number }>()).total, body).toBeGreaterThan(0);
          } else if (body.includes(identifier)) {
            expect(await historySize(identifier), body).toBe(0);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("POST /v1/consent/double-opt-in", async () => {
    await fc.assert(
      fc.asyncProperty(
        freshIdentifier.chain((identifier) =>
          objectText({
            topic: field(fc.constant('"NEWSLETTER"')),
            identifier: field(fc.constant(identifier)),
            lang: field(fc.constantFrom('"de"', '"en"')),
            redirect_url: field(fc.constant('"https://www.acme.example/thanks"')),
            meta: field(fc.constant("{}")),
          }).map((body) => ({ identifier, body })),
        ),
        async ({ identifier, body }) => {
          const response = await post("/v1/consent/double-opt-in", body);
          if (!(await expectSuccessOrRefusal(response, 201, "epilot", body)) && body.includes(identifier)) {
            expect(await historySize(identifier), body).toBe(0);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("POST /v2/api/report/user_copilot_analysis_consent_changed", async () => {
    await fc.assert(
      fc.asyncProperty(
        freshIdentifier.chain((identifier) =>
          objectText({ consent_value: field(fc.constantFrom("true", "false")), user_id: field(fc.constant(identifier)) }).map((body) => ({ identifier, body })),
        ),
        async ({ identifier, body }) => {
          const response = await post("/v2/api/report/user_copilot_analysis_consent_changed", body);
          if (await expectSuccessOrRefusal(response, 200, "copilot", body)) {
            expect(await response.json(), body).toEqual({});
          } else if (body.includes(identifier)) {
            expect(await historySize(identifier), body).toBe(0);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("any bytes under any content type, on every JSON endpoint", async () => {
    const paths = ["/v1/consent/publish", "/v1/consent/double-opt-in", "/v2/api/report/user_copilot_analysis_consent_changed"];
    const payload = fc.oneof(
      jsonText,
      hostileString,
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom("", "{", '{"a":1}{"b":2}', "\ufeff{}", "[1,]", "{'a':1}", "NaN", "null"),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.constantFrom(...CONTENT_TYPES), payload, async (path, contentType, body) => {
        const context = `${path} ${contentType} ${typeof body === "string" ? body : `bytes ${body.join(",")}`}`;
        const response = await post(path, body, contentType);
        // None of these is a valid body for any endpoint.
        await expectRefusal(response, path.startsWith("/v2/") ? "copilot" : "epilot", context);
      }),
      { numRuns: RUNS },
    );
  });
});
