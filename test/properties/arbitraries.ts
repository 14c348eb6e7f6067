import fc from "fast-check";
import { expect } from "vitest";

/**
 * Hostile input for the property tests. JSON is generated as text, so that what JSON.stringify
 * cannot write (1e400, duplicate keys, escaped lone surrogates, deep nesting) is in it.
 */

const SPECIAL_UNITS = ["\u0000", "\u0007", "\n", "\u007f", "\u0085", "\u200f", "\u202e", "\u2066", "\ufeff", "\ud800", "\udfff", "\ud83d", "\ude00", '"', "\\", "/", "%", "<", "é", "字"];

/** Strings of arbitrary UTF-16 code units: lone surrogates, NUL, RTL marks and ordinary text. */
export const hostileString = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_UNITS) },
    { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  ),
  maxLength: 40,
});

/** Number tokens, including those a double cannot carry. */
export const numberToken = fc.oneof(
  fc.constantFrom("1e400", "-1e400", "1e-400", "9".repeat(400), "12345678901234567890", "-0", "0.1", "1E+2", "9007199254740993"),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
);

const keyToken = fc.oneof(fc.constantFrom('"__proto__"', '"constructor"', '"prototype"', '"a"', '"\\u0061"', '""'), hostileString.map((s) => JSON.stringify(s)));

/** JSON text: any value, with duplicate and prototype keys, hostile strings and numbers. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("true", "false", "null"),
    numberToken,
    hostileString.map((s) => JSON.stringify(s)),
    fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
    fc.array(fc.tuple(keyToken, tie("value")), { maxLength: 4 }).map((members) => `{${members.map(([k, v]) => `${k}:${v}`).join(",")}}`),
  ),
})).value;

/** Nesting deep enough to overflow a recursive validator. */
export const deepJson = fc
  .tuple(fc.integer({ min: 20, max: 20_000 }), fc.boolean())
  .map(([n, arrays]) => (arrays ? "[".repeat(n) + "]".repeat(n) : '{"a":'.repeat(n) + "1" + "}".repeat(n)));

/** A value for a body field: sometimes a valid one, sometimes anything. */
export const field = (valid: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 5, arbitrary: valid }, { weight: 2, arbitrary: jsonText }, { weight: 1, arbitrary: deepJson }, { weight: 1, arbitrary: fc.constant(undefined) });

/** A JSON object text from members (undefined members left out), with possibly a duplicate or extra key. */
export const objectText = (members: Record<string, fc.Arbitrary<string | undefined>>) =>
  fc
    .tuple(fc.record(members), fc.option(fc.tuple(keyToken, jsonText), { nil: undefined }))
    .map(([values, extra]) => {
      const parts = Object.entries(values).flatMap(([k, v]) => (v === undefined ? [] : [`${JSON.stringify(k)}:${v}`]));
      if (extra) parts.splice(parts.length ? parts.length - 1 : 0, 0, `${extra[0]}:${extra[1]}`);
      return `{${parts.join(",")}}`;
    });

export const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/merge-patch+json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/jsonx",
  "",
];

/** The shape every refusal has: a problem document, or Copilot's `{reason, error_message}`. */
export async function expectRefusal(response: Response, surface: "epilot" | "copilot", context: string) {
  expect(response.status, context).toBeGreaterThanOrEqual(400);
  expect(response.status, context).toBeLessThan(500);
  expect(response.headers.get("X-Request-Id"), context).toBeTruthy();
  const body = await response.json<Record<string, unknown>>();
  if (surface === "copilot") {
    expect(Object.keys(body).sort(), context).toEqual(["error_message", "reason"]);
    expect(["COMMON.REQUEST_VALIDATION", "AUTH.UNAUTHORIZED"], context).toContain(body.reason);
    expect(typeof body.error_message, context).toBe("string");
  } else {
    expect(response.headers.get("Content-Type"), context).toBe("application/problem+json");
    expect(body, context).toMatchObject({ status: response.status, type: expect.stringMatching(/^urn:consent-gateway:problem:/), title: expect.any(String), detail: expect.any(String) });
    expect(body.request_id, context).toBe(response.headers.get("X-Request-Id"));
  }
}

/** Never a 5xx: either the documented success or a well-formed refusal. */
export async function expectSuccessOrRefusal(response: Response, success: number, surface: "epilot" | "copilot", context: string) {
  if (response.status === success) return true;
  await expectRefusal(response, surface, context);
  return false;
}

/** How many cases each property runs; the whole suite runs a few thousand. */
export const RUNS = 300;
