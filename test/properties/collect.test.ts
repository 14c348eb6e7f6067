import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { basic, call, list } from "../helpers/gateway";
import { expectSuccessOrRefusal, field, objectText, RUNS } from "./arbitraries";

const DAY = 24 * 60 * 60 * 1000;
// Far from the window's bounds, so the seconds a run takes change nothing.
const now = Date.now();
const timestamps = fc.constantFrom(now - DAY, now - 40 * DAY, now + DAY, now - 0.5, 0).map(String);

/** A Collect event's JSON text for `identifier` (a JSON string token), each field valid or anything. */
const eventText = (identifier: string) =>
  objectText({
    type: field(fc.constantFrom('"user_created"', '"user_updated"', '"preexisting_user_created"', '"thing_created"')),
    event_id: field(fc.uuid().map((id) => JSON.stringify(id))),
    timestamp: field(timestamps),
    payload: field(objectText({ user_id: field(fc.constant(identifier)), copilot_analysis_consent: field(fc.constantFrom("true", "false", "null")) })),
  });

const body = fc
  .uuid()
  .map((id) => JSON.stringify(`collect-fuzz-${id}`))
  .chain((identifier) =>
    objectText({ events: field(fc.array(eventText(identifier), { maxLength: 4 }).map((events) => `[${events.join(",")}]`)) }).map((text) => ({ identifier, text })),
  );

describe("property: every Collect body gets 200 {} or a well-formed Copilot 4xx, and a refusal records nothing", { timeout: 60_000 }, () => {
  it("POST /v2/api/collect", () =>
    fc.assert(
      fc.asyncProperty(body, async ({ identifier, text }) => {
        const response = await call("/v2/api/collect", { method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("acme") }, body: text });
        if (await expectSuccessOrRefusal(response, 200, "copilot", text)) expect(await response.json(), text).toEqual({});
        else expect((await (await list(JSON.parse(identifier) as string)).json<{ total: number }>()).total, text).toBe(0);
      }),
      { numRuns: RUNS },
    ));
});
