import type { ZodError } from "zod";
import type { $ZodIssue } from "zod/v4/core";
import { ApiError, type FieldError, type FieldLocation } from "./api-error";

const LOCATION: Record<string, FieldLocation> = { json: "body", query: "query", param: "path", header: "header" };

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Turns zod issues into field errors; `input` is the raw value, to tell a missing field from a null one. */
export function fieldErrors(issues: readonly $ZodIssue[], input: unknown, location: FieldLocation): FieldError[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    // Our own refinements name their code (and type) in params, e.g. invalid_unicode, too_deep.
    const own = issue.code === "custom" ? (issue.params as { code?: string; expected?: string } | undefined) : undefined;
    const expected = issue.code === "invalid_type" ? issue.expected : own?.expected;
    if (expected !== undefined) {
      // A JSON object is what a zod "record" is to the caller.
      const type = expected === "record" ? "object" : expected;
      const value = valueAt(input, issue.path);
      if (value === undefined) return { location, path, code: "required", message: "is required", expected: type };
      if (value === null) return { location, path, code: "null", message: "must not be null", expected: type };
      return { location, path, code: "invalid_type", message: `must be ${article(type)}`, expected: type };
    }
    if (issue.code === "too_small" || issue.code === "too_big") {
      return { location, path, code: issue.code, message: describeBound(issue) };
    }
    if (issue.code === "unrecognized_keys") {
      return { location, path, code: issue.code, message: `has unknown field(s): ${issue.keys.join(", ")}` };
    }
    return { location, path, code: own?.code ?? issue.code, message: issue.message };
  });
}

function describeBound(issue: Extract<$ZodIssue, { code: "too_small" | "too_big" }>): string {
  const bound = Number(issue.code === "too_small" ? issue.minimum : issue.maximum);
  const unit = issue.origin === "string" ? ` character${bound === 1 ? "" : "s"}` : "";
  if (issue.code === "too_small") return issue.origin === "string" && bound === 1 ? "must not be empty" : `must be at least ${bound}${unit}`;
  return `must be at most ${bound}${unit}`;
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/**
 * The `defaultHook` of every OpenAPI router: a failed validation becomes an ApiError.
 * (@hono/zod-validator passes the raw input as `data` on failure, though the hook's type omits it.)
 */
export function throwOnInvalid(result: { target: string; success: boolean; error?: ZodError; data?: unknown }) {
  if (!result.success && result.error) {
    const location = LOCATION[result.target] ?? "body";
    const errors = fieldErrors(result.error.issues, result.data, location);
    throw new ApiError("validation", `The request ${location} is invalid.`, errors);
  }
}
