import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { SignJWT } from "jose";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  authorize,
  basicAuth,
  ConsentApiError,
  ConsentUsageError,
  createFetchClient,
  getClient,
  operations,
  verifyWebhook,
  WebhookVerificationError,
} from "consent-gateway/sdk";
import { E2E_CLIENT, E2E_JWT_SECRET } from "./settings";

const root = path.resolve(import.meta.dirname, "../..");
const baseUrl = inject("gatewayUrl");
const run = promisify(execFile);

function unique(prefix: string) {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

async function jwt(organizationId = E2E_CLIENT.organizationId) {
  return new SignJWT({ organization_id: organizationId })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(E2E_JWT_SECRET));
}

/** The ConsentApiError a call fails with (and fails the test if it does not). */
async function failure(call: Promise<unknown>): Promise<ConsentApiError> {
  try {
    await call;
  } catch (error) {
    return error as ConsentApiError;
  }
  throw new Error("expected the call to fail");
}

describe("the SDK against wrangler dev", () => {
  it("publishes and lists, answering { data, status, headers } (Basic client)", async () => {
    const client = getClient({ baseUrl });
    authorize(client, basicAuth(E2E_CLIENT.id, E2E_CLIENT.secret));
    const identifier = unique("Sdk");
    const published = await client.publishConsentEvent(null, { type: "OPT_IN", topic: "EMAIL_MARKETING", identifier, meta: { via: "sdk" } });
    expect(published.status).toBe(201);
    expect(published.headers.get("content-type")).toMatch(/application\/json/);
    expect(published.data).toMatchObject({ type: "OPT_IN", topic: "EMAIL_MARKETING", identifier: identifier.toLowerCase(), organization_id: "org-e2e", meta: { via: "sdk" } });

    await client.publishConsentEvent(null, { type: "OPT_OUT", topic: "EMAIL_MARKETING", identifier });
    await client.publishConsentEvent(null, { type: "OPT_IN", topic: "SMS", identifier });
    const page = await client.listConsentEvents({ identifier, topic: "EMAIL_MARKETING", limit: 1, from: 0 });
    expect(page.status).toBe(200);
    expect(page.data.total).toBe(2);
    expect(page.data.events.map((e) => e.type)).toEqual(["OPT_OUT"]);
    const second = await client.listConsentEvents({ identifier, topic: "EMAIL_MARKETING", limit: 1, from: 1 });
    expect(second.data.events.map((e) => e.type)).toEqual(["OPT_IN"]);
  });

  it("takes a token provider (async, called per request) and sends it as Bearer", async () => {
    const client = getClient({ baseUrl });
    let calls = 0;
    authorize(client, async () => {
      calls++;
      return jwt();
    });
    const identifier = unique("sdk-jwt");
    await client.publishConsentEvent(null, { type: "OPT_IN", topic: "NEWSLETTER", identifier });
    const { data } = await client.listConsentEvents({ identifier });
    expect(data.events).toHaveLength(1);
    expect(data.events[0]!.organization_id).toBe("org-e2e");
    expect(calls).toBe(2);
  });

  it("calls the public opt-in operation without credentials and answers its HTML page", async () => {
    const client = getClient({ baseUrl });
    authorize(client, basicAuth(E2E_CLIENT.id, E2E_CLIENT.secret));
    const { data: links } = await client.requestDoubleOptIn(null, { topic: "NEWSLETTER", identifier: unique("sdk-doi"), lang: "en" });
    const token = new URL(links.opt_in_url).pathname.split("/").pop()!;

    const anonymous = getClient({ baseUrl });
    const page = await anonymous.handleOptInWithToken({ token, lang: "fr" });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(typeof page.data).toBe("string");
    expect(page.data as string).toContain('<html lang="fr"');
  });

  it("throws ConsentApiError carrying the problem details (401, 400) or Copilot's error", async () => {
    const anonymous = getClient({ baseUrl });
    const unauthorized = await failure(anonymous.listConsentEvents({ identifier: "x@example.com" }));
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.problem?.type).toBe("urn:consent-gateway:problem:unauthorized");
    expect(unauthorized.headers.get("www-authenticate")).toMatch(/Bearer/);

    const client = authorize(getClient({ baseUrl }), basicAuth(E2E_CLIENT.id, E2E_CLIENT.secret));
    const invalid = await failure(client.publishConsentEvent(null, { type: "MAYBE" as "OPT_IN", topic: "EMAIL_MARKETING", identifier: "x@example.com" }));
    expect(invalid.status).toBe(400);
    expect(invalid.problem?.errors?.map((e) => e.path)).toEqual(["type"]);
    expect(invalid.message).toContain("publishConsentEvent answered 400");

    const copilot = await failure(client.reportCopilotAnalysisConsentChanged(null, { consent_value: "yes" as unknown as boolean, user_id: "u-1" }));
    expect(copilot.status).toBe(400);
    expect(copilot.copilotError?.reason).toBe("COMMON.REQUEST_VALIDATION");
    expect(copilot.problem).toBeUndefined();
  });

  it("refuses parameters that do not fit the operation before sending anything", async () => {
    let sent = 0;
    const client = getClient({ baseUrl, fetch: (async () => (sent++, new Response("{}"))) as typeof fetch });
    // @ts-expect-error identifier is required
    await expect(client.listConsentEvents({ topic: "X" })).rejects.toThrow(ConsentUsageError);
    // @ts-expect-error no such parameter
    await expect(client.listConsentEvents({ identifier: "a", colour: "red" })).rejects.toThrow(/unknown parameter colour/);
    expect(sent).toBe(0);
  });

  it("has a method for every operation of the document, including the ones added since", () => {
    const client = getClient({ baseUrl });
    const document = JSON.parse(readFileSync(path.join(root, "openapi.json"), "utf8")) as { paths: Record<string, Record<string, { operationId?: string }>> };
    const ids = Object.values(document.paths).flatMap((item) => Object.values(item).map((op) => op.operationId).filter(Boolean));
    expect(ids).toEqual(expect.arrayContaining(["publishConsentEvent", "listConsentEvents", "handleOptInWithToken", "requestDoubleOptIn"]));
    expect(Object.keys(operations).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(typeof (client as unknown as Record<string, unknown>)[id!]).toBe("function");
  });
});

describe("retries, idempotency keys and errors, against a scripted server", () => {
  const servers: ReturnType<typeof createServer>[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  type Answer = { status: number; headers?: Record<string, string>; body?: unknown } | "drop";
  /**
   * A loopback server answering the scripted answers in order (then repeating the last one); "drop"
   * closes the connection without an answer, as a network failure does. It records every request.
   */
  async function scripted(answers: Answer[]) {
    const seen: { at: number; method: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      seen.push({ at: Date.now(), method: req.method!, headers: req.headers, body });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      if (answer === "drop") return req.socket.destroy();
      res.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers }).end(JSON.stringify(answer.body ?? {}));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
  }
  const event = { type: "OPT_IN", topic: "T", identifier: "a@example.com", organization_id: "o", created_at: "2026-01-01T00:00:00.000Z" };
  const body = { type: "OPT_IN", topic: "T", identifier: "a@example.com" } as const;
  const keysOf = (seen: { headers: IncomingHttpHeaders }[]) => seen.map((request) => request.headers["idempotency-key"]);

  it("waits Retry-After (seconds) after a 503, then answers the 201; both attempts carry one generated Idempotency-Key", async () => {
    const server = await scripted([{ status: 503, headers: { "Retry-After": "1" } }, { status: 201, body: event }]);
    const client = getClient({ baseUrl: server.url });
    const started = Date.now();
    const { status, data } = await client.publishConsentEvent(null, body);
    expect(status).toBe(201);
    expect(data).toEqual(event);
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1]!.at - server.seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5_000);
    const [first, second] = keysOf(server.seen);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second).toBe(first);
    expect(server.seen.map((request) => JSON.parse(request.body))).toEqual([body, body]);

    // The next call is another write: another key.
    await client.publishConsentEvent(null, body);
    expect(keysOf(server.seen)[2]).not.toBe(first);
  });

  it("keeps the caller's own Idempotency-Key, as a parameter or a header, across retries", async () => {
    const server = await scripted([{ status: 503, headers: { "Retry-After": "0" } }, { status: 201, body: event }]);
    const client = getClient({ baseUrl: server.url });
    await client.publishConsentEvent({ "Idempotency-Key": "order-17" }, body);
    await client.publishConsentEvent(null, body, { headers: { "Idempotency-Key": "order-18" } });
    expect(keysOf(server.seen)).toEqual(["order-17", "order-17", "order-18"]);
  });

  it("sends no Idempotency-Key on a read", async () => {
    const server = await scripted([{ status: 200, body: { events: [], total: 0 } }]);
    await getClient({ baseUrl: server.url }).listConsentEvents({ identifier: "a" });
    expect(server.seen[0]!.method).toBe("GET");
    expect(keysOf(server.seen)).toEqual([undefined]);
  });

  it("retries a connection closed without an answer (with the same key), and throws the network error once the retries are spent", async () => {
    const flaky = await scripted(["drop", { status: 201, body: event }]);
    const { status } = await getClient({ baseUrl: flaky.url }).publishConsentEvent(null, body);
    expect(status).toBe(201);
    expect(flaky.seen).toHaveLength(2);
    expect(keysOf(flaky.seen)[1]).toBe(keysOf(flaky.seen)[0]);

    const down = await scripted(["drop"]);
    await expect(getClient({ baseUrl: down.url, retries: 2 }).listConsentEvents({ identifier: "a" })).rejects.toThrow(TypeError);
    expect(down.seen).toHaveLength(3);
  });

  it("retries a 409 with Retry-After (the key's first request still running) and then answers the first one's answer", async () => {
    const server = await scripted([{ status: 409, headers: { "Retry-After": "0" }, body: { type: "urn:consent-gateway:problem:idempotency_key_in_flight", title: "In flight", status: 409, detail: "" } }, { status: 201, body: event }]);
    const { status } = await getClient({ baseUrl: server.url }).publishConsentEvent(null, body);
    expect(status).toBe(201);
    expect(server.seen).toHaveLength(2);
  });

  it("retries 429 with an HTTP-date Retry-After", async () => {
    const soon = new Date(Date.now() + 1_000).toUTCString();
    const server = await scripted([{ status: 429, headers: { "Retry-After": soon } }, { status: 200, body: { events: [], total: 0 } }]);
    const { data } = await getClient({ baseUrl: server.url }).listConsentEvents({ identifier: "a" });
    expect(data).toEqual({ events: [], total: 0 });
    expect(server.seen).toHaveLength(2);
  });

  it("gives up after the bounded number of retries and throws the last answer", async () => {
    const problem = { type: "urn:x", title: "Busy", status: 503, detail: "try later", request_id: "r-1" };
    const server = await scripted([{ status: 503, headers: { "Retry-After": "0" }, body: problem }]);
    const error = await failure(getClient({ baseUrl: server.url, retries: 2 }).listConsentEvents({ identifier: "a" }));
    expect(error.status).toBe(503);
    expect(error.problem).toEqual(problem);
    expect(server.seen).toHaveLength(3);
  });

  it("does not retry a 400 (nor a 500, nor a 409 without Retry-After), and the error carries the problem's fields", async () => {
    const problem = {
      type: "urn:consent-gateway:problem:validation",
      title: "Invalid request",
      status: 400,
      detail: "The request body is invalid.",
      request_id: "3f2c5e9a",
      errors: [{ location: "body", path: "type", code: "invalid_value", message: "is not OPT_IN or OPT_OUT" }],
    };
    const invalid = await scripted([{ status: 400, headers: { "Content-Type": "application/problem+json" }, body: problem }, { status: 201, body: event }]);
    const error = await failure(getClient({ baseUrl: invalid.url }).publishConsentEvent(null, body));
    expect(invalid.seen).toHaveLength(1);
    expect(error).toBeInstanceOf(ConsentApiError);
    expect(error).toMatchObject({
      name: "ConsentApiError",
      operationId: "publishConsentEvent",
      status: 400,
      type: problem.type,
      title: "Invalid request",
      detail: "The request body is invalid.",
      errors: problem.errors,
      requestId: "3f2c5e9a",
      message: "publishConsentEvent answered 400 (Invalid request: The request body is invalid.)",
    });
    expect(error.headers.get("content-type")).toBe("application/problem+json");

    for (const answer of [{ status: 500 }, { status: 409, body: { type: "urn:x", title: "Conflict", status: 409, detail: "" } }]) {
      const server = await scripted([answer, { status: 201, body: event }]);
      await expect(getClient({ baseUrl: server.url }).publishConsentEvent(null, body)).rejects.toMatchObject({ status: answer.status });
      expect(server.seen).toHaveLength(1);
    }
  });

  it("does not wait for a Retry-After longer than maxRetryDelayMs; retries: 0 sends once", async () => {
    const slow = await scripted([{ status: 429, headers: { "Retry-After": "3600" } }, { status: 200 }]);
    const started = Date.now();
    const error = await failure(getClient({ baseUrl: slow.url, maxRetryDelayMs: 2_000 }).listConsentEvents({ identifier: "a" }));
    expect(error.status).toBe(429);
    expect(slow.seen).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);

    const busy = await scripted([{ status: 503, headers: { "Retry-After": "0" } }, { status: 200 }]);
    await expect(getClient({ baseUrl: busy.url, retries: 0 }).listConsentEvents({ identifier: "a" })).rejects.toMatchObject({ status: 503 });
    expect(busy.seen).toHaveLength(1);
  });

  it("the typed openapi-fetch layer (createFetchClient) retries and sends keys too", async () => {
    const server = await scripted([{ status: 503, headers: { "Retry-After": "0" } }, { status: 201, body: event }]);
    const api = createFetchClient({ baseUrl: server.url });
    const { data, response } = await api.POST("/v1/consent/publish", { body });
    expect(response.status).toBe(201);
    expect(data?.created_at).toBe(event.created_at);
    expect(server.seen).toHaveLength(2);
    expect(keysOf(server.seen)[1]).toBe(keysOf(server.seen)[0]);
  });
});

describe("verifyWebhook", () => {
  const secret = `whsec_${Buffer.from("a secret of 24 bytes ...").toString("base64")}`;
  const payload = JSON.stringify({ type: "consent.event", data: { type: "OPT_IN", topic: "T", identifier: "a@example.com", seq: 1 } });
  function signed(body: string, at = new Date()) {
    const id = "msg_2x9";
    return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign(id, at, body) };
  }

  it("answers the delivery's JSON when its signature is valid (headers as a record or as Headers, the body as text or bytes)", () => {
    const headers = signed(payload);
    expect(verifyWebhook(payload, headers, secret)).toEqual(JSON.parse(payload));
    expect(verifyWebhook(new TextEncoder().encode(payload), new Headers(headers), secret)).toEqual(JSON.parse(payload));
    // During a rotation the gateway signs with both secrets: either one verifies.
    const other = `whsec_${Buffer.from("another secret, 24 bytes").toString("base64")}`;
    const both = { ...headers, "webhook-signature": `${new Webhook(other).sign(headers["webhook-id"], new Date(Number(headers["webhook-timestamp"]) * 1000), payload)} ${headers["webhook-signature"]}` };
    expect(verifyWebhook(payload, both, secret)).toEqual(JSON.parse(payload));
  });

  it("refuses a tampered body, a tampered signature, another secret, an old timestamp and missing headers", () => {
    const headers = signed(payload);
    const refused = (body: string, h: Record<string, string>, key = secret) => () => verifyWebhook(body, h, key);
    expect(refused(payload.replace("OPT_IN", "OPT_OUT"), headers)).toThrow(WebhookVerificationError);
    expect(refused(payload, { ...headers, "webhook-signature": headers["webhook-signature"].replace(/.$/, (c) => (c === "A" ? "B" : "A")) })).toThrow(WebhookVerificationError);
    expect(refused(payload, { ...headers, "webhook-id": "msg_other" })).toThrow(WebhookVerificationError);
    expect(refused(payload, headers, `whsec_${Buffer.from("not the endpoint's secret").toString("base64")}`)).toThrow(WebhookVerificationError);
    expect(refused(payload, signed(payload, new Date(Date.now() - 10 * 60_000)))).toThrow(/timestamp too old/i);
    expect(refused(payload, { "webhook-id": headers["webhook-id"] })).toThrow(/missing required headers/i);
  });
});

describe("the generated files are current", () => {
  const script = path.join(root, "scripts/generate-openapi.ts");

  it("openapi.json, src/sdk/generated/schema.d.ts and src/sdk/generated/operations.ts are what `npm run openapi` makes of the served document", async () => {
    const { stdout } = await run(process.execPath, [script, "--check", "--url", baseUrl], { cwd: root });
    expect(stdout).toContain("are current");
  });

  it("the check fails when a generated file differs (here: a stale schema.d.ts)", async () => {
    const copy = mkdtempSync(path.join(tmpdir(), "consent-gateway-generated-"));
    try {
      cpSync(path.join(root, "openapi.json"), path.join(copy, "openapi.json"));
      cpSync(path.join(root, "src/sdk"), path.join(copy, "src/sdk"), { recursive: true });
      const schema = path.join(copy, "src/sdk/generated/schema.d.ts");
      writeFileSync(schema, readFileSync(schema, "utf8").replace("publishConsentEvent: {", "publishConsentEventOld: {"));
      const failed = await run(process.execPath, [script, "--check", "--url", baseUrl, "--root", copy], { cwd: root }).catch((e: { code: number; stderr: string }) => e);
      expect((failed as { code: number }).code).toBe(1);
      expect((failed as { stderr: string }).stderr).toContain("src/sdk/generated/schema.d.ts");
      expect((failed as { stderr: string }).stderr).not.toContain("openapi.json,");
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

// The worker's tsconfig (Workers' globals only) is not probed here: its worker-configuration.d.ts
// imports src/index.ts, so a probe type-checks the whole worker (40 s on a busy machine), which
// `tsc -p .` in `npm test` does anyway.
describe("the SDK and the CLI are type-checked with their own runtime's globals only", () => {
  const tsc = path.join(root, "node_modules/typescript/bin/tsc");

  /**
   * Checks `lines` (one expression each) as a file of the part whose tsconfig is `project`, and
   * answers the numbers of the lines that fail. The probe lives under node_modules/.cache so that
   * `types` resolves as it does for the part itself.
   */
  async function failingLines(project: string, lines: string[]) {
    mkdirSync(path.join(root, "node_modules/.cache"), { recursive: true });
    const dir = mkdtempSync(path.join(root, "node_modules/.cache/tsconfig-probe-"));
    try {
      writeFileSync(path.join(dir, "probe.ts"), lines.map((line, i) => `export const line${i + 1} = ${line};`).join("\n"));
      const config = { extends: path.join(root, project), compilerOptions: { noEmit: true, rootDir: dir }, include: ["probe.ts"] };
      writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(config));
      const failed = await run(process.execPath, [tsc, "-p", dir], { cwd: root }).then(() => ({ stdout: "" }), (e: { stdout: string }) => e);
      return [...failed.stdout.matchAll(/probe\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("the SDK: the web APIs all three runtimes share, and neither Node's globals nor Workers'", async () => {
    const lines = ["fetch", "new Headers()", "crypto.randomUUID()", "new URL('http://x')", "setTimeout", "process.env", "Buffer.from('x')", "{} as DurableObjectNamespace", "caches.default"];
    expect(await failingLines("src/sdk/tsconfig.json", lines)).toEqual([6, 7, 8, 9]);
  }, 90_000);

  it("the CLI: Node's globals, not Workers' nor the browser's", async () => {
    const lines = ["process.env", "Buffer.from('x')", "fetch", "{} as DurableObjectNamespace", "{} as D1Database", "document"];
    expect(await failingLines("src/cli/tsconfig.json", lines)).toEqual([4, 5, 6]);
  }, 90_000);
});
