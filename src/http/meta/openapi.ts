import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { ApiReference, type OpenApiDocument } from "../../pages/api-reference";
import pkg from "../../../package.json";
import { PAGE_HEADERS } from "../../pages/respond";
import type { AppEnv } from "../app-env";
import { IdempotencyKey } from "../idempotency";
import { ConsentErasedWebhook, ConsentEventWebhook } from "../../webhooks/schemas";

export const OPENAPI_INFO = {
  title: "Consent gateway",
  // The package's version: the document, /docs and the SDK it generates move together.
  version: pkg.version,
  description:
    "Records, proves and answers consent: the epilot Consent API and the Copilot.cx consent endpoint, " +
    "ordered per identifier on Cloudflare Workers.",
};

const getOpenApiDocument = createRoute({
  operationId: "getOpenApiDocument",
  method: "get",
  path: "/openapi.json",
  tags: ["meta"],
  summary: "This OpenAPI 3.1 document",
  responses: {
    200: { description: "The document", content: { "application/json": { schema: z.object({}).passthrough() } } },
  },
});

const getApiReference = createRoute({
  operationId: "getApiReference",
  method: "get",
  path: "/docs",
  tags: ["meta"],
  summary: "Human-readable reference of this API (server-rendered, works offline)",
  responses: {
    200: { description: "The reference page", content: { "text/html": { schema: z.string() } } },
  },
});

const redirectToReference = createRoute({
  operationId: "redirectToReference",
  method: "get",
  path: "/",
  tags: ["meta"],
  summary: "Sends a browser to the reference page (/docs)",
  responses: {
    302: { description: "Redirect to /docs", headers: { Location: { schema: { type: "string" }, description: "/docs" } } },
  },
});

const getHealth = createRoute({
  operationId: "getHealth",
  method: "get",
  path: "/health",
  tags: ["meta"],
  summary: "Liveness: answers 204 without touching any store (load balancers, and the benchmark's floor)",
  responses: { 204: { description: "The worker is up" } },
});

const WebhookHeaders = z.object({
  "webhook-id": z.string().openapi({ description: "The message's id: the same on every attempt (de-duplicate on it)", example: "msg_2b7c0e6f1a9d4e3f8c5b6a7d8e9f0a1b" }),
  "webhook-timestamp": z.string().openapi({ description: "Unix seconds when this attempt was signed", example: "1798761600" }),
  "webhook-signature": z.string().openapi({ description: "Space-separated `v1,<base64 HMAC-SHA256>` signatures (two while a rotated-out secret still signs)" }),
});

/** What the gateway POSTs to webhook endpoints (README "Webhooks"), as OpenAPI 3.1 `webhooks`. */
function declareWebhooks(app: OpenAPIHono<AppEnv>) {
  for (const [name, schema, summary] of [
    ["consent.event", ConsentEventWebhook, "A consent event reached the feed"],
    ["consent.erased", ConsentErasedWebhook, "A person's history was erased: erase them too"],
  ] as const) {
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: name,
      tags: ["webhooks"],
      summary,
      request: { headers: WebhookHeaders, body: { required: true, content: { "application/json": { schema } } } },
      responses: { 200: { description: "Any 2xx: delivered. Anything else, a redirect or no answer in 10 s: retried with backoff for about 34 hours" } },
    });
  }
}

/** Serves the OpenAPI 3.1 document, generated from the zod schemas that validate requests, and its reference page. */
export function serveOpenApi(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A JWT (HS256 with JWT_SECRET, or RS256/ES256 from JWT_JWKS_URL) carrying the organization claim.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "basicAuth", {
    type: "http",
    scheme: "basic",
    description: "An API client: base64(client_id:secret).",
  });
  app.openAPIRegistry.registerParameter("IdempotencyKey", IdempotencyKey);
  declareWebhooks(app);
  const document = (origin: string) =>
    app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: OPENAPI_INFO,
      servers: [{ url: origin }],
      tags: [
        { name: "consent", description: "epilot Consent API" },
        { name: "copilot", description: "Copilot.cx Server API: consent endpoint" },
        { name: "proof", description: "Proof of consent: the hash chain and signed receipts" },
        { name: "webhooks", description: "Consent changes pushed to the systems behind the gateway (Standard Webhooks)" },
        { name: "meta", description: "About this API" },
      ],
    });
  app.openapi(getOpenApiDocument, (c) => c.json(document(new URL(c.req.url).origin), 200));
  app.openapi(redirectToReference, (c) => c.redirect("/docs", 302));
  app.openapi(getHealth, (c) => c.body(null, 204));
  app.openapi(getApiReference, (c) => {
    const page = ApiReference({ document: document(new URL(c.req.url).origin) as OpenApiDocument, nonce: c.var.secureHeadersNonce ?? "" });
    return c.html(`<!doctype html>${page}`, 200, { ...PAGE_HEADERS, "Cache-Control": "public, max-age=300" });
  });
}
