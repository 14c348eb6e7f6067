import { z } from "@hono/zod-openapi";
import { ConsentEvent, ConsentIdentifier, ConsentTopic, EVENT_TYPES, cleanText } from "../consent-event";
import { ERASED_TYPE } from "../storage/webhooks/messages";

/** What an endpoint's types may list: the consent event types and the erasure notice (README "Webhooks"). */
export const WEBHOOK_TYPES = [...EVENT_TYPES, ERASED_TYPE] as const;

/** An endpoint's id as the API hands it out. */
export const WebhookId = z.string().regex(/^wh_[0-9a-f]{32}$/).openapi({ example: "wh_3b0c1f0e2d9a4c6b8e7f5a4d3c2b1a09" });

export const WebhookIdPath = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "wh_3b0c1f0e2d9a4c6b8e7f5a4d3c2b1a09" }) });

const unique = <T>(values: readonly T[]) => new Set(values).size === values.length;

export const WebhookRequestBody = z
  .strictObject({
    url: z.string().max(2000).openapi({
      format: "uri",
      description:
        "Where to POST: https, not a private, loopback or link-local address nor a localhost or .local name (the name is not resolved). With WEBHOOKS_ALLOW_LOCALHOST=true also http://127.0.0.1:* and http://localhost:*",
      example: "https://crm.example.com/hooks/consent",
    }),
    topics: z
      .array(ConsentTopic)
      .min(1)
      .max(50)
      .refine(unique, "must not repeat a topic")
      .optional()
      .openapi({ description: "Only events on these topics (default: every topic). An erasure spans every topic, so this never filters consent.erased" }),
    types: z
      .array(z.enum(WEBHOOK_TYPES))
      .min(1)
      .refine(unique, "must not repeat a type")
      .optional()
      .openapi({ description: "Only these event types, and consent.erased only if listed (default: everything)" }),
    description: cleanText(z.string().min(1).max(500)).optional(),
  })
  .openapi("WebhookRequestBody", { example: { url: "https://crm.example.com/hooks/consent", topics: ["EMAIL_MARKETING"], description: "CRM sync" } });
export type WebhookRequestBody = z.infer<typeof WebhookRequestBody>;

export const WebhookEndpoint = z
  .object({
    id: WebhookId,
    url: z.string(),
    topics: z.array(ConsentTopic).optional(),
    types: z.array(z.enum(WEBHOOK_TYPES)).optional(),
    description: z.string().optional(),
    created_at: z.string().openapi({ format: "date-time" }),
    previous_secret_expires_at: z.string().optional().openapi({
      format: "date-time",
      description: "After a rotation: until when the previous secret still signs beside the current one",
    }),
  })
  .openapi("WebhookEndpoint");
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

export const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]+=*$/).openapi({
    description: "The signing secret (Standard Webhooks), shown only in this answer: keep it to verify webhook-signature",
    example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  }),
}).openapi("WebhookEndpointWithSecret");

export const WebhookList = z.object({ webhooks: z.array(WebhookEndpoint) }).openapi("WebhookList");

export const WebhookDeliveriesQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(50)
    .openapi({ param: { name: "limit", in: "query" }, type: "integer", minimum: 1, maximum: 100, default: 50, example: 50 }),
});

export const WebhookDelivery = z
  .object({
    webhook_id: z.string().openapi({ description: "The webhook-id header: the same on every attempt of one message" }),
    type: z.enum(["consent.event", ERASED_TYPE]),
    attempt: z.number().int().min(1),
    status: z.enum(["delivered", "retrying", "failed", "dropped"]).openapi({
      description: "delivered: answered 2xx. retrying: will be tried again. failed: the last attempt (the message went to the dead-letter queue). dropped: the event was erased before delivery",
    }),
    response_status: z.number().int().optional().openapi({ description: "The endpoint's HTTP status, when it answered" }),
    error: z.string().optional().openapi({ description: "Why no answer came (a timeout, a refused connection)" }),
    attempted_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("WebhookDelivery");

export const WebhookDeliveryList = z.object({ deliveries: z.array(WebhookDelivery).openapi({ description: "Newest first, kept 30 days" }) }).openapi("WebhookDeliveryList");

/** The payloads POSTed to endpoints (OpenAPI 3.1 `webhooks`). */
export const ConsentEventWebhook = z
  .object({
    type: z.literal("consent.event"),
    timestamp: z.string().openapi({ format: "date-time", description: "When the event was recorded (its created_at)" }),
    data: ConsentEvent.openapi({ description: "The event as listOrganizationEvents lists it, with seq and hash" }),
  })
  .openapi("ConsentEventWebhook");

export const ConsentErasedWebhook = z
  .object({
    type: z.literal(ERASED_TYPE),
    timestamp: z.string().openapi({ format: "date-time" }),
    data: z.object({ identifier: ConsentIdentifier, erased_at: z.string().openapi({ format: "date-time" }) }),
  })
  .openapi("ConsentErasedWebhook");
