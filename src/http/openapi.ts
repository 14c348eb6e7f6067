import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./app-env";

export const OPENAPI_INFO = {
  title: "Consent gateway",
  version: "1.0.0",
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

/** Serves the OpenAPI 3.1 document generated from the same zod schemas that validate requests. */
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
  app.openapi(getOpenApiDocument, (c) =>
    c.json(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: OPENAPI_INFO,
        servers: [{ url: new URL(c.req.url).origin }],
        tags: [
          { name: "consent", description: "epilot Consent API" },
          { name: "copilot", description: "Copilot.cx Server API: consent endpoint" },
          { name: "meta", description: "About this API" },
        ],
      }),
      200,
    ),
  );
}
