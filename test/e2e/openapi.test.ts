import { Validator } from "@seriousme/openapi-schema-validator";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { e2eBasic, e2eDpoBasic, e2eHooksBasic } from "./settings";

const base = inject("gatewayUrl");
const METHODS = ["get", "post", "put", "patch", "delete"];

interface Operation {
  method: string;
  path: string;
  operationId: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: { content: Record<string, unknown> };
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

let document: any;
let operations: Operation[];

beforeAll(async () => {
  document = await (await fetch(`${base}/openapi.json`)).json();
  operations = Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]: [string, any]) => ({ method: method.toUpperCase(), path, ...op })),
  );
});

it("the served document validates as OpenAPI 3.1", async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
});

/** A concrete URL for a documented path: `{identifier}` and `{token}` get sample values. */
const SAMPLES: Record<string, string> = { identifier: "nobody@example.com", token: "not-a-signed-link", seq: "1", topic: "NEWSLETTER" };
/** A concrete URL for a documented path and its required query parameters, from SAMPLES. */
const urlOf = (op: Operation) => {
  const required = (op.parameters ?? []).filter((p) => p.in === "query" && p.required).map((p) => `${p.name}=${encodeURIComponent(SAMPLES[p.name] ?? p.name)}`);
  return base + op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(SAMPLES[name] ?? name)) + (required.length ? `?${required.join("&")}` : "");
};

const isSecured = (op: Operation) => (op.security ?? document.security ?? []).length > 0;

/**
 * The answer is one the operation documents: its status is listed, under the content type it came
 * with, and a JSON body carries the fields its schema requires.
 */
async function expectDocumented(op: Operation, response: Response, expectedStatus: number) {
  const label = `${op.method} ${op.path} (${op.operationId})`;
  expect(response.status, label).toBe(expectedStatus);
  const documented = op.responses[String(response.status)];
  expect(documented, `${label}: status ${response.status} is documented`).toBeDefined();
  const type = response.headers.get("Content-Type")?.split(";")[0]?.trim();
  if (!documented!.content) {
    // Documented without a body (a redirect, a 204): none is sent.
    expect(await response.text(), `${label}: ${response.status} has no body`).toBe("");
    return;
  }
  expect(Object.keys(documented!.content), `${label}: ${response.status} as ${type}`).toContain(type);
  const ref = documented!.content![type!]!.schema?.$ref;
  if (ref) {
    const schema = document.components.schemas[ref.replace("#/components/schemas/", "")];
    expect(Object.keys(await response.json()), `${label}: ${response.status} body`).toEqual(expect.arrayContaining(schema.required ?? []));
  }
}

describe("every operation the document lists is served as documented", () => {
  it("lists the operations of both APIs, the link pages and the documentation", () => {
    expect(operations.map((op) => op.operationId).sort()).toEqual(
      [
        "collectCopilotEvents",
        "confirmOptInWithToken",
        "createWebhook",
        "deleteWebhook",
        "eraseConsentHistory",
        "createPreferencesLink",
        "downloadPreferencesExport",
        "exportConsentHistory",
        "getApiReference",
        "getHealth",
        "getOpenApiDocument",
        "getConsentReceipt",
        "getConsentState",
        "getReceiptKeys",
        "importConsentEvents",
        "handleOptInWithToken",
        "handleOptOutWithToken",
        "listAudience",
        "listConsentEvents",
        "listOrganizationEvents",
        "listWebhookDeliveries",
        "listWebhooks",
        "optOutWithToken",
        "publishConsentEvent",
        "redirectToReference",
        "reportCopilotAnalysisConsentChanged",
        "requestDoubleOptIn",
        "rotateWebhookSecret",
        "savePreferences",
        "showPreferencesPage",
        "verifyConsentHistory",
      ].sort(),
    );
  });

  it("without credentials: 401 where security is required, the public operations answer", async () => {
    for (const op of operations) {
      const response = await fetch(urlOf(op), { method: op.method, redirect: "manual" });
      // Public: the document, its reference and the receipt key set answer 200, `/` redirects to the reference, /health
      // answers 204, and a link that is not a signed link 400.
      const PUBLIC: Record<string, number> = { "/": 302, "/health": 204 };
      const expected = isSecured(op) ? 401 : op.path.includes("{token}") ? 400 : (PUBLIC[op.path] ?? 200);
      await expectDocumented(op, response, expected);
    }
  });

  it("the link pages answer in JSON when asked, under the documented JSON type", async () => {
    for (const op of operations.filter((op) => op.path.includes("{token}"))) {
      const response = await fetch(urlOf(op), { method: op.method, headers: { Accept: "application/json" } });
      await expectDocumented(op, response, 400);
    }
  });

  it("with credentials: reads answer 200 (a receipt of, or a preference link for, a history never seen, an unknown webhook endpoint: 404); writes refuse an invalid body (400) and a body that is not JSON (415)", async () => {
    const NEVER_SEEN = ["getConsentReceipt", "createPreferencesLink"];
    for (const op of operations.filter(isSecured)) {
      // Webhook management needs webhooks:manage, and erasure consent:erase, which the e2e client does not name.
      const authorization = op.tags?.includes("webhooks") ? e2eHooksBasic : op.tags?.includes("rights") ? e2eDpoBasic : e2eBasic;
      if (!op.requestBody) {
        const missing = NEVER_SEEN.includes(op.operationId) || op.path.includes("{id}");
        await expectDocumented(op, await fetch(urlOf(op), { method: op.method, headers: { Authorization: authorization } }), missing ? 404 : 200);
        continue;
      }
      // The import also takes NDJSON; "{}" is not the array it takes as JSON either.
      expect(Object.keys(op.requestBody.content)).toEqual(op.operationId === "importConsentEvents" ? ["application/x-ndjson", "application/json"] : ["application/json"]);
      const post = (contentType: string, body: string) =>
        fetch(urlOf(op), { method: op.method, headers: { Authorization: authorization, "Content-Type": contentType }, body });
      await expectDocumented(op, await post("application/json", "{}"), 400);
      await expectDocumented(op, await post("text/plain", "hello"), 415);
    }
  });

  it("declares what the gateway POSTs to webhook endpoints as OpenAPI 3.1 webhooks", () => {
    expect(Object.keys(document.webhooks).sort()).toEqual(["consent.erased", "consent.event"]);
    for (const [name, item] of Object.entries<any>(document.webhooks)) {
      expect(item.post.parameters.map((p: any) => [p.in, p.name, p.required])).toEqual([
        ["header", "webhook-id", true],
        ["header", "webhook-timestamp", true],
        ["header", "webhook-signature", true],
      ]);
      const schema = document.components.schemas[item.post.requestBody.content["application/json"].schema.$ref.split("/").pop()];
      expect(schema.properties.type.const ?? schema.properties.type.enum?.[0], name).toBe(name);
    }
  });
});
