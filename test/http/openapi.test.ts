import pkg from "../../package.json";
import { describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { call } from "../helpers/gateway";

const fetchDocument = async () => (await call("/openapi.json")).json<any>();

/*
 * The examples of the epilot Consent API seed (/work/shared/seeds/001_9b57c65a06e2e8a5.txt), copied
 * here as written there: the request of its `publishConsentEvent` SDK call, and the two "Response"
 * blocks verbatim.
 */
const SEED_PUBLISH_REQUEST = {
  type: "OPT_IN",
  topic: "EMAIL_MARKETING",
  source: "www.frontend.epilot.cloud",
  identifier: "exampleuser@epilot.cloud",
  meta: {
    double_opt_in: true,
    source_type: "journey",
    source_id: "0e4f2a26-14f0-4ada-9294-a7d7a0b9b214",
    ip_address: "1.1.1.1",
    user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.114 Safari/537.36",
  },
};
const SEED_PUBLISH_RESPONSE = JSON.parse(`{
"type": "OPT_IN",
"created_at": "1970-01-01T00:00:00.000Z",
"topic": "EMAIL_MARKETING",
"source": "www.frontend.epilot.cloud",
"organization_id": "123",
"identifier": "exampleuser@epilot.cloud",
"meta": {
"double_opt_in": true,
"source_type": "journey",
"source_id": "0e4f2a26-14f0-4ada-9294-a7d7a0b9b214",
"ip_address": "1.1.1.1",
"user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.114 Safari/537.36"
}
}`);
const SEED_LIST_RESPONSE = JSON.parse(`{
"events": [
{
"type": "OPT_IN",
"created_at": "1970-01-01T00:00:00.000Z",
"topic": "EMAIL_MARKETING",
"source": "www.frontend.epilot.cloud",
"organization_id": "123",
"identifier": "exampleuser@epilot.cloud",
"meta": {
"double_opt_in": true,
"source_type": "journey",
"source_id": "0e4f2a26-14f0-4ada-9294-a7d7a0b9b214",
"ip_address": "1.1.1.1",
"user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.114 Safari/537.36"
}
}
],
"total": 1
}`);
const METHODS = ["get", "post", "put", "patch", "delete"];

function documentedOperations(document: any): string[] {
  return Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
    Object.keys(item)
      .filter((method) => METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1 with both security schemes", async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe("3.1.0");
    expect(document.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: "http", scheme: "bearer" }),
      basicAuth: expect.objectContaining({ type: "http", scheme: "basic" }),
    });
    expect(document.servers).toEqual([{ url: "https://gateway.test" }]);
  });

  it("documents every route of the app, and nothing that is not a route", async () => {
    const routes = new Set(
      app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    expect(documentedOperations(await fetchDocument()).sort()).toEqual([...routes].sort());
  });

  it("names the epilot operations as epilot does, and ours", async () => {
    const document = await fetchDocument();
    const ids = Object.fromEntries(
      Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
        Object.entries(item).map(([method, op]: [string, any]) => [op.operationId, `${method.toUpperCase()} ${path}`]),
      ),
    );
    expect(ids).toMatchObject({
      publishConsentEvent: "POST /v1/consent/publish",
      listConsentEvents: "GET /v1/consent/{identifier}",
      handleOptInWithToken: "GET /v1/opt-in/{token}",
      requestDoubleOptIn: "POST /v1/consent/double-opt-in",
      reportCopilotAnalysisConsentChanged: "POST /v2/api/report/user_copilot_analysis_consent_changed",
      collectCopilotEvents: "POST /v2/api/collect",
    });
  });

  it("carries the seed examples", async () => {
    const { components } = await fetchDocument();
    // Field order too, as the reference shows them.
    const exactly = (value: unknown) => JSON.stringify(value, null, 2);
    expect(exactly(components.schemas.ConsentEventRequestBody.example)).toBe(exactly(SEED_PUBLISH_REQUEST));
    expect(exactly(components.schemas.ConsentEvent.example)).toBe(exactly(SEED_PUBLISH_RESPONSE));
    expect(exactly(components.schemas.ConsentEventList.example)).toBe(exactly(SEED_LIST_RESPONSE));
    expect(components.schemas.CopilotConsentChanged.example).toEqual({ consent_value: true, user_id: "325ca496-afe8-4f44-bd37-b0dc90bdfdea" });
    expect(components.schemas.CopilotError.example).toEqual({
      reason: "COMMON.REQUEST_VALIDATION",
      error_message: "1 validation error: [ may not be null --> consent_value ]",
    });
  });

  it("documents every error status with its error schema", async () => {
    const { paths } = await fetchDocument();
    const publish = paths["/v1/consent/publish"].post;
    expect(Object.keys(publish.responses).sort()).toEqual(["201", "400", "401", "403", "409", "413", "415", "422", "429", "500", "503"]);
    for (const status of ["400", "401", "403", "409", "413", "415", "422", "429", "500", "503"]) {
      expect(publish.responses[status].content["application/problem+json"].schema).toEqual({ $ref: "#/components/schemas/Problem" });
    }
    for (const path of ["/v2/api/report/user_copilot_analysis_consent_changed", "/v2/api/collect"]) {
      const copilot = paths[path].post;
      for (const status of ["400", "401", "403", "429", "500"]) expect(copilot.responses[status].content["application/json"].schema, path).toEqual({ $ref: "#/components/schemas/CopilotError" });
      expect(copilot.security).toEqual([{ bearerAuth: [] }, { basicAuth: [] }]);
    }
    const optIn = paths["/v1/opt-in/{token}"].get;
    expect(optIn.security).toBeUndefined();
    expect(Object.keys(optIn.responses).sort()).toEqual(["200", "400", "409", "410", "429"]);
    expect(optIn.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(["path:token", "query:lang"]);
    for (const path of ["/v1/opt-in/{token}", "/v1/opt-out/{token}"]) {
      expect(Object.keys(paths[path].post.responses).sort()).toEqual(["200", "400", "409", "410", "413", "429", "500"]);
    }
    const list = paths["/v1/consent/{identifier}"].get;
    expect(list.parameters.find((p: any) => p.name === "limit").schema).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 50 });
  });

  it("declares the Idempotency-Key header once and references it on every idempotent operation, with its 409 and 422", async () => {
    const { paths, components } = await fetchDocument();
    expect(components.parameters.IdempotencyKey).toMatchObject({ name: "Idempotency-Key", in: "header", required: false, schema: { $ref: "#/components/schemas/IdempotencyKey" } });
    const idempotent = [paths["/v1/consent/publish"].post, paths["/v1/consent/double-opt-in"].post, paths["/v2/api/report/user_copilot_analysis_consent_changed"].post, paths["/v2/api/collect"].post];
    for (const operation of idempotent) {
      expect(operation.parameters, operation.operationId).toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
      expect(operation.responses["409"].description, operation.operationId).toContain("idempotency_key_in_flight");
      expect(operation.responses["422"].description, operation.operationId).toContain("idempotency_key_reused");
    }
  });

  it("says of every 500 that a write may have been recorded", async () => {
    const { paths } = await fetchDocument();
    const descriptions = Object.values(paths).flatMap((operations: any) =>
      Object.values(operations).flatMap((operation: any) => (operation.responses?.["500"] ? [operation.responses["500"].description] : [])),
    );
    expect(descriptions.length).toBeGreaterThan(5);
    for (const description of descriptions) expect(description).toContain("may have been recorded: read the history");
  });
});

describe("GET /docs", () => {
  it("renders the reference server-side, without scripts or third-party requests", async () => {
    const response = await call("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Security-Policy")).toMatch(/^default-src 'none'; style-src 'nonce-/);
    const html = await response.text();
    for (const id of ["publishConsentEvent", "listConsentEvents", "handleOptInWithToken", "requestDoubleOptIn", "reportCopilotAnalysisConsentChanged"]) {
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).not.toMatch(/<script|<link /i);
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain("exampleuser@epilot.cloud");
  });

  it("opens with a table of contents, renders `code` as code, and lets the keyboard reach what scrolls", async () => {
    const html = await (await call("/docs")).text();
    expect(html).toContain('<nav aria-label="Contents">');
    expect(html).toContain('<a href="#publishConsentEvent"><code>POST /v1/consent/publish</code></a>');
    // Descriptions write code in backticks; none is left raw.
    expect(html).toContain("<code>errors</code> names each field");
    expect(html).not.toMatch(/`[^`<]+`/);
    // Every table and code block that can scroll is a focusable, labelled region.
    expect(html.match(/<table>/g)?.length).toBe(html.match(/<div class="scroll" tabindex="0" role="region" aria-label="[^"]+"><table>/g)?.length);
    expect(html.match(/<pre>/g)).toBeNull();
    expect(html).toMatch(/<pre tabindex="0" aria-label="[^"]+">/);
  });

  it("shows the package's version, the document's own", async () => {
    const [html, document] = await Promise.all([(await call("/docs")).text(), fetchDocument()]);
    expect(document.info.version).toBe(pkg.version);
    expect(html).toContain(`<span class="muted">${pkg.version}</span>`);
  });
});

describe("GET /", () => {
  it("sends a browser to the reference page", async () => {
    const response = await call("/", { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/docs");
  });
});

