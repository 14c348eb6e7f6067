import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { basic, call, list } from "../helpers/gateway";
import { expectSuccessOrRefusal, field, hostileString, jsonText, objectText, RUNS } from "./arbitraries";

const now = Date.now();
const times = fc.constantFrom(new Date(now - 3_600_000).toISOString(), "2024-01-01T00:00:00+05:30", new Date(now + 86_400_000).toISOString(), "1969-01-01T00:00:00Z", "2024-13-01T00:00:00Z", "yesterday");

/** An imported event's JSON text for `identifier` (a JSON string token), each field valid or anything. */
const eventText = (identifier: string) =>
  objectText({
    event_id: field(fc.constantFrom('"e-1"', '"e-2"', '"e-3"', '""', "7")),
    type: field(fc.constantFrom('"OPT_IN"', '"OPT_OUT"', '"DOUBLE_OPT_IN"', '"opt_in"')),
    topic: field(fc.constantFrom('"NEWSLETTER"', '"SMS"')),
    identifier: field(fc.constant(identifier)),
    occurred_at: field(times.map((t) => JSON.stringify(t))),
    source: field(fc.constantFrom('"crm"', '""')),
    meta: field(fc.constantFrom('{"a":1}', "{}", "[]", '{"notice_version":3}')),
  });

/** A line: an event (mostly), any JSON, or any text at all (which may hold line breaks of its own). */
const line = (identifier: string) => fc.oneof({ weight: 4, arbitrary: eventText(identifier) }, { weight: 1, arbitrary: jsonText }, { weight: 1, arbitrary: hostileString }, { weight: 1, arbitrary: fc.constant("") });

const identifiers = fc.uuid().map((id) => JSON.stringify(`import-fuzz-${id}@example.com`));

const importing = (text: string, contentType: string) =>
  call("/v1/consent/import", { method: "POST", headers: { "Content-Type": contentType, Authorization: basic("acme") }, body: text });

/** What the identifier's history holds, which is what the import says it stored. */
const total = async (identifier: string) => (await (await list(JSON.parse(identifier) as string)).json<{ total: number }>()).total;

/** The answer's invariants: every event answered once, in order, counted, and stored ones numbered. */
function expectAnswered(answer: any, lines: number[], context: string) {
  expect(answer.results.map((r: any) => r.line), context).toEqual(lines);
  for (const status of ["stored", "duplicate", "refused"] as const) {
    expect(answer[status === "duplicate" ? "duplicates" : status], context).toBe(answer.results.filter((r: any) => r.status === status).length);
  }
  for (const result of answer.results) {
    expect(result.status === "stored", context).toBe(typeof result.seq === "number");
    expect(result.status === "refused", context).toBe(Array.isArray(result.errors) && result.errors.length > 0);
  }
}

describe("property: every import body gets 200 with every event answered, or a well-formed 4xx that records nothing", { timeout: 120_000 }, () => {
  it("POST /v1/consent/import as NDJSON", () =>
    fc.assert(
      fc.asyncProperty(
        identifiers.chain((identifier) => fc.tuple(fc.constant(identifier), fc.array(line(identifier), { maxLength: 6 }), fc.constantFrom("\n", "\r\n"))),
        async ([identifier, lines, eol]) => {
          const text = lines.join(eol);
          // Quoted: a failure's message must be well-formed Unicode to reach the reporter.
          const context = JSON.stringify(text);
          const response = await importing(text, "application/x-ndjson");
          // Lines as NDJSON has them: a line break inside a hostile "line" makes two.
          const expected = text.split("\n").flatMap((l, i) => (l.trim() === "" ? [] : [i + 1]));
          if (await expectSuccessOrRefusal(response, 200, "epilot", context)) {
            const answer = await response.json<any>();
            expectAnswered(answer, expected, context);
            expect(await total(identifier), context).toBe(answer.stored);
          } else {
            // Refused whole only when it holds no event, or is not UTF-8 (a lone surrogate crosses as WTF-8).
            expect(expected.length === 0 || !text.isWellFormed(), context).toBe(true);
            expect(await total(identifier), context).toBe(0);
          }
        },
      ),
      { numRuns: RUNS },
    ));

  it("POST /v1/consent/import as a JSON array", () =>
    fc.assert(
      fc.asyncProperty(
        identifiers.chain((identifier) => fc.tuple(fc.constant(identifier), fc.array(fc.oneof({ weight: 4, arbitrary: eventText(identifier) }, { weight: 1, arbitrary: jsonText }), { minLength: 1, maxLength: 6 }))),
        async ([identifier, elements]) => {
          const text = `[${elements.join(",")}]`;
          const context = JSON.stringify(text);
          const response = await importing(text, "application/json");
          expect(response.status, context).toBe(200);
          const answer = await response.json<any>();
          expectAnswered(answer, elements.map((_, i) => i + 1), context);
          expect(await total(identifier), context).toBe(answer.stored);
        },
      ),
      { numRuns: RUNS },
    ));

  it("the same body twice: the second stores nothing", () =>
    fc.assert(
      fc.asyncProperty(
        identifiers.chain((identifier) => fc.tuple(fc.constant(identifier), fc.array(eventText(identifier), { minLength: 1, maxLength: 6 }))),
        async ([identifier, lines]) => {
          const text = lines.join("\n");
          const context = JSON.stringify(text);
          const first = await (await importing(text, "application/x-ndjson")).json<any>();
          const again = await (await importing(text, "application/x-ndjson")).json<any>();
          expect(again.stored, context).toBe(0);
          expect(again.duplicates, context).toBe(first.stored + first.duplicates);
          expect(await total(identifier), context).toBe(first.stored);
        },
      ),
      { numRuns: RUNS / 3 },
    ));
});
