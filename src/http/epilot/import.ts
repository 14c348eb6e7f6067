import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { importEvents } from "../../consent/import";
import { IMPORT_MAX_EVENTS, ImportedConsentEvent, ImportResult, type ImportOutcomeLine } from "../../consent/schemas";
import type { FieldError } from "../api-error";
import type { AppEnv } from "../app-env";
import { authenticated } from "../authenticate";
import { IdempotencyHeaders, idempotent } from "../idempotency";
import { eventLines, IMPORT_MAX_BODY_BYTES, importBody, NDJSON, type EventLine } from "../import-body";
import { bodyText } from "../json-body";
import { answerAsProblem } from "../problem";
import { requestRecording } from "../request-proof";
import { jsonAnswer, writeRefusals } from "../responses";
import { inspectJson } from "../strict-json";
import { fieldErrors, throwOnInvalid } from "../validation";

const EVENT_REF = { $ref: "#/components/schemas/ImportedConsentEvent" };

const importConsentEvents = createRoute({
  operationId: "importConsentEvents",
  method: "post",
  path: "/v1/consent/import",
  tags: ["consent"],
  summary: "Imports up to 1,000 consent events from another system, with when they happened",
  description:
    `Takes 1 to ${IMPORT_MAX_EVENTS} events as NDJSON (${NDJSON}, one per line) or a JSON array (application/json), each a publish body with event_id and occurred_at. ` +
    "Each event is checked on its own: a bad one is refused in its result (with the codes publish answers) and the others are still recorded. " +
    "Each identifier's events are appended in occurred_at order, all or none, and reach the feed as publishes do. " +
    "An event_id the identifier's history already holds records nothing (duplicate), so a file may be sent again. Only OPT_IN and OPT_OUT are importable.",
  // The body is validated per event by the handler, not by the route's validator (which would refuse the whole request for one bad event).
  ...authenticated("consent:write", ...importBody, idempotent("importConsentEvents")),
  request: {
    body: {
      required: true,
      content: {
        [NDJSON]: { schema: { type: "string", description: "One ImportedConsentEvent JSON object per line (blank lines are skipped)" } },
        "application/json": { schema: { type: "array", items: EVENT_REF, minItems: 1, maxItems: IMPORT_MAX_EVENTS } },
      },
    },
    headers: IdempotencyHeaders,
  },
  responses: {
    200: jsonAnswer("What became of each event, in request order", ImportResult),
    ...writeRefusals,
    400: { ...writeRefusals[400]!, description: "The body is not NDJSON or a JSON array, is empty, or is not UTF-8; or the Idempotency-Key header is invalid. Nothing was recorded" },
    413: { ...writeRefusals[413]!, description: `More than ${IMPORT_MAX_EVENTS} events, or a body larger than ${IMPORT_MAX_BODY_BYTES / 1024 / 1024} MiB. Nothing was recorded` },
    415: { ...writeRefusals[415]!, description: `The body is neither ${NDJSON} nor application/json` },
    503: {
      ...writeRefusals[503]!,
      description: "A store is overloaded or the identity provider's keys could not be fetched; or some identifiers' events could not be recorded (the others were): send the same request again, what was stored is then a duplicate",
    },
  },
});

type Parsed = { line: number; event_id?: string } & ({ event: ImportedConsentEvent } | { errors: FieldError[] });

/** One event's text, read by the strict JSON rules and the import's schema: the event, or its refusal. */
function parseLine({ line, text }: EventLine): Parsed {
  const problem = inspectJson(text);
  if (problem?.code === "malformed_json") return { line, errors: [{ location: "body", path: "", code: problem.code, message: `is not valid JSON (${problem.message})` }] };
  if (problem) return { line, errors: [{ location: "body", ...problem }] };
  const value: unknown = JSON.parse(text);
  const eventId = (value as { event_id?: unknown } | null)?.event_id;
  const named = typeof eventId === "string" ? { event_id: eventId } : {};
  const result = ImportedConsentEvent.safeParse(value);
  return result.success ? { line, ...named, event: result.data } : { line, ...named, errors: fieldErrors(result.error.issues, value, "body") };
}

/** The bulk import, on the epilot surface: its errors are problem details. */
export const importApi = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid }).onError(answerAsProblem);
// The JSON array's items, by reference: the body has no zod schema of its own to carry it.
importApi.openAPIRegistry.register("ImportedConsentEvent", ImportedConsentEvent);
importApi.openapi(importConsentEvents, async (c) => {
    const parsed = eventLines(await bodyText(c), c.req.header("Content-Type")).map(parseLine);
    const valid = parsed.flatMap((p) => ("event" in p ? [p.event] : []));
    const outcomes = await importEvents(c.env, c.executionCtx, c.var.principal, valid, requestRecording(c));
    let next = 0;
    const results: ImportOutcomeLine[] = parsed.map(({ line, event_id, ...p }) => {
      const base = { line, ...(event_id === undefined ? {} : { event_id }) };
      if ("errors" in p) return { ...base, status: "refused", errors: p.errors };
      const outcome = outcomes[next++]!;
      if (outcome.status === "refused") return { ...base, status: "refused", errors: [{ location: "body", path: outcome.field, code: outcome.code, message: outcome.message }] };
      return { ...base, ...outcome };
    });
    const count = (status: ImportOutcomeLine["status"]) => results.filter((r) => r.status === status).length;
    return c.json({ stored: count("stored"), duplicates: count("duplicate"), refused: count("refused"), results }, 200);
  });
