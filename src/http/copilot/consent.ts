import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ConsentIdentifier } from "../../consent-event";
import { COPILOT_SOURCE, COPILOT_TOPIC, copilotConsentEvent } from "../../consent/copilot";
import { recordEvent } from "../../consent/service";
import type { AppEnv } from "../app-env";
import { authenticated } from "../authenticate";
import { IdempotencyHeaders, idempotent } from "../idempotency";
import { jsonBody } from "../json-body";
import { requestRecording } from "../request-proof";
import { copilotRefusals, jsonAnswer, jsonRequest } from "../responses";
import { PreferReceipt, ReceiptField, withReceipt } from "../prefer-receipt";
import { throwOnInvalid } from "../validation";
import { answerInCopilotFormat, onlyPost } from "./errors";

const COPILOT_PATH = "/v2/api/report/user_copilot_analysis_consent_changed";

const ConsentChanged = z
  .object({
    consent_value: z.boolean().openapi({ description: "true: the user's data may be processed by Copilot" }),
    user_id: ConsentIdentifier.openapi({ description: "The end-user's id, as in the user_created event" }),
  })
  .openapi("CopilotConsentChanged", {
    example: { consent_value: true, user_id: "325ca496-afe8-4f44-bd37-b0dc90bdfdea" },
  });

const consentChanged = createRoute({
  operationId: "reportCopilotAnalysisConsentChanged",
  method: "post",
  path: COPILOT_PATH,
  tags: ["copilot"],
  summary: "Reports that an end-user's data may (or may no longer) be processed by Copilot",
  description: `Records OPT_IN (consent_value true) or OPT_OUT (false) on topic ${COPILOT_TOPIC}, source ${COPILOT_SOURCE}.`,
  ...authenticated("consent:write", ...jsonBody, idempotent("reportCopilotAnalysisConsentChanged")),
  request: { ...jsonRequest(ConsentChanged), headers: IdempotencyHeaders.extend(PreferReceipt.shape) },
  responses: { 200: jsonAnswer("Recorded (an empty object; with Prefer: return=receipt, the event's receipt)", z.object(ReceiptField)), ...copilotRefusals },
});

/** The Copilot.cx consent endpoint: errors are `{reason, error_message}`. */
export const copilotApi = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .onError(answerInCopilotFormat)
  .openapi(consentChanged, async (c) => {
    const { consent_value, user_id } = c.req.valid("json");
    const recorded = await recordEvent(c.env, c.executionCtx, c.var.principal, user_id, copilotConsentEvent(consent_value, requestRecording(c)));
    return c.json(await withReceipt(c, {}, recorded), 200);
  })
  .all(COPILOT_PATH, onlyPost);
