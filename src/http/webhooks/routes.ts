import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import {
  WebhookDeliveriesQuery,
  WebhookDeliveryList,
  WebhookEndpointWithSecret,
  WebhookIdPath,
  WebhookList,
  WebhookRequestBody,
} from "../../webhooks/schemas";
import { createWebhook, deleteWebhook, listWebhookDeliveries, listWebhooks, rotateWebhookSecret } from "../../webhooks/service";
import { ApiError } from "../api-error";
import type { AppEnv } from "../app-env";
import { authenticated } from "../authenticate";
import { jsonBody } from "../json-body";
import { answerAsProblem } from "../problem";
import { jsonAnswer, jsonRequest, readRefusals, webhookRefusals, webhookWriteRefusals } from "../responses";
import { throwOnInvalid } from "../validation";
import { bookmarkAnswered, BookmarkHeaders, inSession } from "../d1-session";

const createWebhookRoute = createRoute({
  operationId: "createWebhook",
  method: "post",
  path: "/v1/webhooks",
  tags: ["webhooks"],
  summary: "Registers a webhook endpoint; answers its signing secret, shown only here",
  description:
    "Every consent event of the organization that reaches the feed (and every erasure) is POSTed to the endpoint, signed as Standard Webhooks says, " +
    "filtered by topics and types when given. The URL must be https and must not name a private, loopback or link-local address or a local host name.",
  ...authenticated("webhooks:manage", ...jsonBody),
  request: jsonRequest(WebhookRequestBody),
  responses: { 201: jsonAnswer("The endpoint and its secret", WebhookEndpointWithSecret), ...webhookWriteRefusals },
});

const listWebhooksRoute = createRoute({
  operationId: "listWebhooks",
  method: "get",
  path: "/v1/webhooks",
  tags: ["webhooks"],
  summary: "Lists the organization's webhook endpoints (never their secrets)",
  ...authenticated("webhooks:manage"),
  request: { headers: BookmarkHeaders },
  responses: { 200: { ...jsonAnswer("The endpoints, oldest first", WebhookList), headers: bookmarkAnswered }, ...readRefusals },
});

const deleteWebhookRoute = createRoute({
  operationId: "deleteWebhook",
  method: "delete",
  path: "/v1/webhooks/{id}",
  tags: ["webhooks"],
  summary: "Removes a webhook endpoint: nothing more is delivered to it, not even what is queued",
  ...authenticated("webhooks:manage"),
  request: { params: WebhookIdPath },
  responses: { 204: { description: "Removed, with its delivery log" }, ...webhookRefusals },
});

const rotateWebhookSecretRoute = createRoute({
  operationId: "rotateWebhookSecret",
  method: "post",
  path: "/v1/webhooks/{id}/rotate-secret",
  tags: ["webhooks"],
  summary: "Gives the endpoint a new signing secret; the old one keeps signing beside it for 24 hours",
  description: "While both sign, webhook-signature carries two space-separated v1 signatures: a receiver that knows either secret verifies.",
  ...authenticated("webhooks:manage"),
  request: { params: WebhookIdPath },
  responses: { 200: jsonAnswer("The endpoint and its new secret", WebhookEndpointWithSecret), ...webhookRefusals },
});

const listWebhookDeliveriesRoute = createRoute({
  operationId: "listWebhookDeliveries",
  method: "get",
  path: "/v1/webhooks/{id}/deliveries",
  tags: ["webhooks"],
  summary: "The endpoint's recent delivery attempts: status, time, response code",
  ...authenticated("webhooks:manage"),
  request: { params: WebhookIdPath, query: WebhookDeliveriesQuery, headers: BookmarkHeaders },
  responses: { 200: { ...jsonAnswer("Attempts, newest first", WebhookDeliveryList), headers: bookmarkAnswered }, ...webhookRefusals },
});

const notFound = (id: string) => new ApiError("not_found", `The organization has no webhook endpoint ${JSON.stringify(id)}.`);

/** Webhook management: errors are RFC 9457 problem details, as on the epilot surface. */
export const webhooksApi = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .onError(answerAsProblem)
  .openapi(createWebhookRoute, async (c) => c.json(await createWebhook(c.env, c.var.principal, c.req.valid("json")), 201))
  .openapi(listWebhooksRoute, async (c) => c.json(await inSession(c, (db) => listWebhooks(db, c.var.principal)), 200))
  .openapi(deleteWebhookRoute, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await deleteWebhook(c.env, c.var.principal, id))) throw notFound(id);
    return c.body(null, 204);
  })
  .openapi(rotateWebhookSecretRoute, async (c) => {
    const { id } = c.req.valid("param");
    const rotated = await rotateWebhookSecret(c.env, c.var.principal, id);
    if (!rotated) throw notFound(id);
    return c.json(rotated, 200);
  })
  .openapi(listWebhookDeliveriesRoute, async (c) => {
    const { id } = c.req.valid("param");
    const deliveries = await inSession(c, (db) => listWebhookDeliveries(db, c.var.principal, id, c.req.valid("query").limit));
    if (!deliveries) throw notFound(id);
    return c.json(deliveries, 200);
  });
