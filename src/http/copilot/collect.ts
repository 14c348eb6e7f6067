import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { cleanText, ConsentIdentifier } from "../../consent-event";
import {
  COLLECT_CLOCK_SKEW_MS,
  COLLECT_MAX_AGE_MS,
  COLLECT_MAX_EVENTS,
  COLLECTED_EVENTS,
  COPILOT_SOURCE,
  COPILOT_TOPIC,
  copilotConsentEvent,
  ERASING_EVENT,
} from "../../consent/copilot";
import { eraseHistory } from "../../consent/erasure";
import { recordEventOnce } from "../../consent/service";
import { MissingScope } from "../../auth/errors";
import type { AppEnv } from "../app-env";
import { authenticated } from "../authenticate";
import { IdempotencyHeaders, idempotent } from "../idempotency";
import { jsonBody } from "../json-body";
import { requestRecording } from "../request-proof";
import { copilotRefusals, jsonAnswer, jsonRequest } from "../responses";
import { throwOnInvalid } from "../validation";
import { answerInCopilotFormat, onlyPost } from "./errors";

const COLLECT_PATH = "/v2/api/collect";

const SUPPORTED = COLLECTED_EVENTS.join(", ");

const EventType = z
  .string()
  .superRefine((type, ctx) => {
    if (!(COLLECTED_EVENTS as readonly string[]).includes(type)) {
      ctx.addIssue({ code: "custom", message: `must be one of ${SUPPORTED} (the events that carry consent, and ${ERASING_EVENT})`, params: { code: "invalid_value" } });
    }
  })
  .openapi({ enum: [...COLLECTED_EVENTS], description: `The Collect event's type: the user events that carry consent, and ${ERASING_EVENT}, which erases the user's history` });

const EventId = cleanText(z.string().min(1).max(200)).openapi({
  description: "The sender's unique id of the event: a second delivery of it records nothing (per user_id, for good)",
  example: "a1f0c9a4-6a44-4f3c-9d0e-6b8d3f2b7e51",
});

const MINUTES = COLLECT_CLOCK_SKEW_MS / 60_000;
const DAYS = COLLECT_MAX_AGE_MS / 86_400_000;

/** Epoch milliseconds, within the window the gateway accepts relative to its own clock at the request. */
const Timestamp = z
  .number()
  .superRefine((ms, ctx) => {
    const now = Date.now();
    if (!Number.isInteger(ms)) {
      ctx.addIssue({ code: "custom", message: "must be whole epoch milliseconds", params: { code: "invalid_format" } });
    } else if (ms > now + COLLECT_CLOCK_SKEW_MS) {
      ctx.addIssue({ code: "custom", message: `must not be in the future (beyond ${MINUTES} minutes of clock skew)`, params: { code: "too_big" } });
    } else if (ms < now - COLLECT_MAX_AGE_MS) {
      ctx.addIssue({ code: "custom", message: `must not be older than ${DAYS} days`, params: { code: "too_small" } });
    }
  })
  .openapi({
    type: "integer",
    description: `When the event happened, epoch milliseconds: at most ${MINUTES} minutes ahead of the gateway's clock, at most ${DAYS} days behind it. Kept as the event's occurred_at`,
    example: 1764547200000,
  });

/** What a consent-carrying event's payload says; its other fields (the user's profile) are not kept. */
const UserPayload = z.object({
  user_id: ConsentIdentifier,
  // null says as little as absent: the event carries no consent.
  copilot_analysis_consent: z.boolean().nullish(),
});

/** Any object to the event's own fields: its shape depends on the event's type (documented here, checked by UserPayload). */
const Payload = z.looseObject({}).openapi({
  required: ["user_id"],
  properties: {
    user_id: { type: "string", description: "The end-user's id: the identifier the consent is recorded for" },
    copilot_analysis_consent: {
      type: ["boolean", "null"],
      description: `true records OPT_IN, false OPT_OUT (topic ${COPILOT_TOPIC}, source ${COPILOT_SOURCE}); absent or null: the event carries no consent and records nothing`,
    },
  },
  description: "The user's data; only user_id and copilot_analysis_consent are read, nothing of it is kept",
});

const CollectEvent = z
  .object({ type: EventType, event_id: EventId, timestamp: Timestamp, payload: Payload })
  .openapi("CopilotCollectEvent")
  // The payload is read by the event's type, so only once the type is one that carries consent.
  .transform((event, ctx) => {
    const payload = UserPayload.safeParse(event.payload);
    if (payload.success) return { ...event, payload: payload.data };
    for (const issue of payload.error.issues) ctx.addIssue({ ...issue, path: ["payload", ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  });

const CollectBody = z
  .object({ events: z.array(CollectEvent).min(1).max(COLLECT_MAX_EVENTS) })
  .openapi("CopilotCollectBatch", {
    example: {
      events: [
        {
          type: "user_created",
          event_id: "a1f0c9a4-6a44-4f3c-9d0e-6b8d3f2b7e51",
          timestamp: 1764547200000,
          payload: { user_id: "325ca496-afe8-4f44-bd37-b0dc90bdfdea", copilot_analysis_consent: true },
        },
      ],
    },
  });

const collect = createRoute({
  operationId: "collectCopilotEvents",
  method: "post",
  path: COLLECT_PATH,
  tags: ["copilot"],
  summary: "Takes a batch of Copilot.cx Collect events and records the consent they carry",
  description:
    `The whole batch is validated first (1 to ${COLLECT_MAX_EVENTS} events of types ${SUPPORTED}, timestamps in range): any refusal is a 400 that records nothing. ` +
    `Then each event with a boolean payload.copilot_analysis_consent records OPT_IN (true) or OPT_OUT (false) for payload.user_id on topic ${COPILOT_TOPIC}, ` +
    `source ${COPILOT_SOURCE}, with its timestamp as occurred_at, in the batch's order; an event_id already recorded for that user records nothing. ` +
    `A ${ERASING_EVENT} event erases payload.user_id's history as eraseConsentHistory does (erased_by the client, reason naming the event); a batch with one needs the consent:erase scope (403 otherwise, nothing recorded). ` +
    `If recording fails midway, send the same batch again: what was recorded is not recorded twice.`,
  ...authenticated("consent:write", ...jsonBody, idempotent("collectCopilotEvents")),
  request: { ...jsonRequest(CollectBody), headers: IdempotencyHeaders },
  responses: {
    200: jsonAnswer("Every event taken (empty object)", z.object({})),
    ...copilotRefusals,
    400: {
      ...copilotRefusals[400]!,
      description: `Validation failed (\`COMMON.REQUEST_VALIDATION\`): of the body (each failing event by its index, e.g. events.3.type; an unsupported type; a timestamp out of range; more than ${COLLECT_MAX_EVENTS} events) or of the Idempotency-Key header. Nothing was recorded`,
    },
  },
});

/**
 * Copilot.cx's Collect API, for the events that carry consent. A redelivered event is found by
 * its event_id in the user's own ledger (IdentifierLedger.appendOnce), not in an IdempotencyRecord:
 * the check and the append are one synchronous transaction there (no window in which a crash
 * records twice or a concurrent delivery is told to wait), and it is kept for good, whereas a
 * record forgets after 24 hours and an event may be sent up to 30 days after it happened.
 */
export const collectApi = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .onError(answerInCopilotFormat)
  .openapi(collect, async (c) => {
  const { events } = c.req.valid("json");
  const recording = requestRecording(c);
  // Checked before anything is recorded: a refused batch records nothing.
  if (events.some((e) => e.type === ERASING_EVENT) && !c.var.principal.scopes.has("consent:erase")) throw new MissingScope("consent:erase");
  // One by one, in the batch's order: one user's events are then recorded in the order sent.
  for (const { type, event_id, timestamp, payload } of events) {
    if (type === ERASING_EVENT) {
      await eraseHistory(c.env, c.var.principal, payload.user_id, `Copilot.cx ${ERASING_EVENT} event ${event_id}`);
      continue;
    }
    if (typeof payload.copilot_analysis_consent !== "boolean") continue;
    const event = copilotConsentEvent(payload.copilot_analysis_consent, recording, new Date(timestamp).toISOString());
    await recordEventOnce(c.env, c.executionCtx, c.var.principal, payload.user_id, event_id, event);
  }
  return c.json({}, 200);
  })
  .all(COLLECT_PATH, onlyPost);
