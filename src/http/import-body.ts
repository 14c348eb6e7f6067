/**
 * A bulk import's body: NDJSON (one event per line) or a JSON array, split into the text of each
 * event so that one malformed event refuses only itself. What is in an event is read later, per
 * event, by the same strict JSON rules as any other body (strict-json.ts).
 */
import { createMiddleware } from "hono/factory";
import { IMPORT_MAX_EVENTS } from "../consent/schemas";
import { ApiError } from "./api-error";
import type { AppEnv } from "./app-env";
import { limitBody } from "./json-body";

/** Room for IMPORT_MAX_EVENTS events of 8 KiB each on average (a publish body's meta may be 32 KiB). */
export const IMPORT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export const NDJSON = "application/x-ndjson";
const JSON_ARRAY = "application/json";

const mediaTypeOf = (header: string | undefined) => (header ?? "").split(";")[0]!.trim().toLowerCase();

const requireImportType = createMiddleware<AppEnv>(async (c, next) => {
  const mediaType = mediaTypeOf(c.req.header("Content-Type"));
  if (mediaType !== NDJSON && mediaType !== JSON_ARRAY) {
    throw new ApiError("unsupported_media_type", `The request body must be NDJSON (Content-Type: ${NDJSON}) or a JSON array (Content-Type: ${JSON_ARRAY}).`);
  }
  await next();
});

/** Guards for the import route: 415 for another media type, 413 above IMPORT_MAX_BODY_BYTES. */
export const importBody = [requireImportType, limitBody(IMPORT_MAX_BODY_BYTES)] as const;

/** One event's text and where it was: its line in NDJSON (from 1, blank lines counted), its place in a JSON array (from 1). */
export interface EventLine {
  line: number;
  text: string;
}

const bodyRefused = (detail: string, code: string, message: string) => new ApiError("validation", detail, [{ location: "body", path: "", code, message }]);

/** NDJSON's lines, blank ones skipped (a trailing newline is not an event); CRLF is read as LF. */
function ndjsonLines(text: string): EventLine[] {
  return text
    .split("\n")
    .map((line, index) => ({ line: index + 1, text: line.endsWith("\r") ? line.slice(0, -1) : line }))
    .filter(({ text }) => text.trim() !== "");
}

const WHITESPACE = /[ \t\n\r]/;

/**
 * The elements of a top-level JSON array, as text, found by bracket depth and string state alone:
 * an element that is not valid JSON is still one element (refused on its own later). Answers
 * undefined when the body is not an array that closes once, at its end.
 */
function arrayElements(text: string): EventLine[] | undefined {
  let start = 0;
  while (start < text.length && WHITESPACE.test(text[start]!)) start++;
  if (text[start] !== "[") return undefined;
  const elements: EventLine[] = [];
  let depth = 0;
  let inString = false;
  let from = start + 1;
  let end = -1;
  for (let i = start; i < text.length && end < 0; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") {
      depth--;
      if (depth === 0) end = i;
    } else if (c === "," && depth === 1) {
      elements.push({ line: elements.length + 1, text: text.slice(from, i) });
      from = i + 1;
    }
  }
  if (end < 0 || text.slice(end + 1).trim() !== "") return undefined;
  const last = text.slice(from, end);
  // `[]` has no element; `[a,]` has an empty last one, which is refused as malformed.
  if (elements.length > 0 || last.trim() !== "") elements.push({ line: elements.length + 1, text: last });
  return elements;
}

/** The body's events as text, or a 400 (not NDJSON / not a JSON array, or no event at all) or 413 (more than IMPORT_MAX_EVENTS). */
export function eventLines(text: string, contentType: string | undefined): EventLine[] {
  if (text.trim() === "") throw bodyRefused("The request body is empty: send at least one event.", "required", "is required");
  let lines: EventLine[];
  if (mediaTypeOf(contentType) === NDJSON) {
    lines = ndjsonLines(text);
  } else {
    const elements = arrayElements(text);
    if (!elements) throw bodyRefused(`The request body must be a JSON array of events (or NDJSON, with Content-Type: ${NDJSON}).`, "not_an_array", "is not a JSON array");
    lines = elements;
  }
  if (lines.length === 0) throw bodyRefused("The request body holds no event (an empty array).", "too_small", "must hold at least one event");
  if (lines.length > IMPORT_MAX_EVENTS) {
    throw new ApiError("payload_too_large", `An import takes at most ${IMPORT_MAX_EVENTS} events a request; this one has ${lines.length}. Nothing was recorded: split it.`);
  }
  return lines;
}
