/**
 * A request body is evidence: what is stored must be what was sent. `JSON.parse` alone would
 * silently keep the last of two equal keys, round 12345678901234567890 and turn 1e400 into
 * Infinity (stored as null), and it recurses into any depth. This scanner walks the text once,
 * iteratively, and names the first thing `JSON.parse` would not carry faithfully.
 */

/** Deepest nesting of objects and arrays a request body may have (the body itself is level 1). */
export const MAX_JSON_DEPTH = 32;

export interface JsonProblem {
  /** Dotted path of the offending value, e.g. `meta.tags.2`; empty for the body itself. */
  path: string;
  /** What is wrong; for malformed JSON, where. */
  code: "malformed_json" | "too_deep" | "duplicate_key" | "invalid_unicode" | "number_out_of_range" | "imprecise_number";
  message: string;
}

interface Frame {
  kind: "object" | "array";
  /** The key or index of the member being read. */
  at: string;
  keys: Set<string>;
  index: number;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Answers the first problem in `text`, or undefined when `JSON.parse(text)` is exactly what was sent. */
export function inspectJson(text: string): JsonProblem | undefined {
  const frames: Frame[] = [];
  let i = 0;
  /** A problem with the value being read, or (`ofContainer`) with the object whose key is being read. */
  const problem = (code: JsonProblem["code"], message: string, ofContainer = false): JsonProblem => ({
    path: frames
      .slice(0, ofContainer ? -1 : undefined)
      .map((f) => f.at)
      .join("."),
    code,
    message,
  });
  const malformed = () => problem("malformed_json", `at character ${i + 1}`);
  const skipSpace = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = i;
    const found = pattern.exec(text)?.[0];
    if (found !== undefined) i += found.length;
    return found;
  };
  /** A string token's value; only tokens with escapes need decoding. */
  const stringValue = (token: string) => (token.includes("\\") ? (JSON.parse(token) as string) : token.slice(1, -1));
  /** Reads `"key":` of the object on top; answers a problem or undefined. */
  const readKey = (frame: Frame): JsonProblem | undefined => {
    skipSpace();
    const token = match(STRING);
    if (token === undefined) return malformed();
    const key = stringValue(token);
    if (!key.isWellFormed()) return problem("invalid_unicode", "has a key that is not well-formed Unicode (a lone surrogate)", true);
    if (frame.keys.has(key)) return problem("duplicate_key", `has the key ${JSON.stringify(key)} more than once`, true);
    frame.keys.add(key);
    frame.at = key;
    skipSpace();
    if (text[i] !== ":") return malformed();
    i++;
    return undefined;
  };

  for (;;) {
    // A value.
    skipSpace();
    const c = text[i];
    if (c === "{" || c === "[") {
      if (frames.length >= MAX_JSON_DEPTH) return problem("too_deep", `is nested more than ${MAX_JSON_DEPTH} levels deep`);
      i++;
      skipSpace();
      if (text[i] === (c === "{" ? "}" : "]")) {
        i++;
      } else {
        const frame: Frame = { kind: c === "{" ? "object" : "array", at: "0", keys: new Set(), index: 0 };
        frames.push(frame);
        if (frame.kind === "object") {
          const refused = readKey(frame);
          if (refused) return refused;
        }
        continue;
      }
    } else if (c === '"') {
      const token = match(STRING);
      if (token === undefined) return malformed();
      if (!stringValue(token).isWellFormed()) return problem("invalid_unicode", "must be well-formed Unicode (it has a lone surrogate)");
    } else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      const token = match(NUMBER);
      if (token === undefined) return malformed();
      const value = Number(token);
      const digits = token.replace(/[eE].*$/, "");
      if (!Number.isFinite(value) || (value === 0 && /[1-9]/.test(digits))) {
        return problem("number_out_of_range", "is a number beyond what JSON numbers carry here (double precision)");
      }
      if (!/[.eE]/.test(token) && !Number.isSafeInteger(value)) {
        return problem("imprecise_number", "is an integer beyond ±9007199254740991 that would lose digits; send it as a string");
      }
    } else if (match(LITERAL) === undefined) {
      return malformed();
    }

    // After a value: the next member, the end of containers, or the end of the text.
    for (;;) {
      skipSpace();
      const frame = frames.at(-1);
      if (!frame) return i === text.length ? undefined : malformed();
      const next = text[i];
      if (next === ",") {
        i++;
        if (frame.kind === "object") {
          const refused = readKey(frame);
          if (refused) return refused;
        } else {
          frame.at = String(++frame.index);
        }
        break;
      }
      if (next !== (frame.kind === "object" ? "}" : "]")) return malformed();
      i++;
      frames.pop();
    }
  }
}
