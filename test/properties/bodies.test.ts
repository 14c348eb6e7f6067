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

/**
 * Posts bodies built from `members` (given a fresh person's identifier token): each gets `success`
 * (then checked by `accepted`) or a well-formed refusal that wrote nothing for that person.
 */
function everyBodyAnswered(
  path: string,
  success: number,
  surface: "epilot" | "copilot",
  members: (identifier: string) => Parameters<typeof objectText>[0],
  accepted: (sent: Record<string, unknown>, response: Response, body: string) => Promise<void>,
) {
  return fc.assert(
    fc.asyncProperty(
      freshIdentifier.chain((identifier) => objectText(members(identifier)).map((body) => ({ identifier, body }))),
      async ({ identifier, body }) => {
        const response = await post(path, body);
        if (await expectSuccessOrRefusal(response, success, surface, body)) await accepted(JSON.parse(body), response, body);
        else if (body.includes(identifier)) expect(await historySize(identifier), body).toBe(0);
      },
    ),
    { numRuns: RUNS },
  );
}

describe("property: every body gets its success or a well-formed 4xx, and a refusal writes nothing", { timeout: 60_000 }, () => {
  it("POST /v1/consent/publish", () =>
    everyBodyAnswered(
      "/v1/consent/publish",
      201,
      "epilot",
      (identifier) => ({
        type: field(fc.constantFrom('"OPT_IN"', '"OPT_OUT"')),
        topic: field(fc.constantFrom('"NEWSLETTER"', '"T"')),
        source: field(fc.constant('"web"')),
        identifier: field(fc.constant(identifier)),
        meta: field(fc.constant('{"a":1}')),
      }),
      async (sent, response, body) => {
        // Accepted: what is stored is what was sent, and the history stays readable
        // (a lone surrogate once broke it for good).
        const stored = await response.json<Record<string, unknown>>();
        expect(JSON.stringify(stored.meta), body).toBe(JSON.stringify(sent.meta));
        expect(stored.topic, body).toBe(sent.topic);
        const history = await list(sent.identifier as string);
        expect(history.status, body).toBe(200);
        expect((await history.json<{ total: number }>()).total, body).toBeGreaterThan(0);
      },
    ));

  it("POST /v1/consent/double-opt-in", () =>
    everyBodyAnswered(
      "/v1/consent/double-opt-in",
      201,
      "epilot",
      (identifier) => ({
        topic: field(fc.constant('"NEWSLETTER"')),
        identifier: field(fc.constant(identifier)),
        lang: field(fc.constantFrom('"de"', '"en"')),
        redirect_url: field(fc.constant('"https://www.acme.example/thanks"')),
        meta: field(fc.constant("{}")),
      }),
      async (sent, response, body) => {
        expect((await response.json<{ event: { topic: unknown } }>()).event.topic, body).toBe(sent.topic);
      },
    ));

  it("POST /v2/api/report/user_copilot_analysis_consent_changed", () =>
    everyBodyAnswered(
      "/v2/api/report/user_copilot_analysis_consent_changed",
      200,
      "copilot",
      (identifier) => ({ consent_value: field(fc.constantFrom("true", "false")), user_id: field(fc.constant(identifier)) }),
      async (_, response, body) => {
        expect(await response.json(), body).toEqual({});
      },
    ));

  it("any bytes under any content type, on every JSON endpoint", async () => {
    const paths = ["/v1/consent/publish", "/v1/consent/double-opt-in", "/v2/api/report/user_copilot_analysis_consent_changed", "/v2/api/collect"];
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
