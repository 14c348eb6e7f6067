import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { SignJWT } from "jose";
import { afterAll, describe, expect, inject, it } from "vitest";
import { authorize, basicAuth, ConsentApiError, ConsentUsageError, getClient, operations } from "consent-gateway/sdk";
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

describe("retries on 429 and 503", () => {
  const servers: ReturnType<typeof createServer>[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  /** A loopback server answering the scripted statuses in order (then repeating the last one). */
  async function scripted(answers: { status: number; headers?: Record<string, string>; body?: unknown }[]) {
    const seen: number[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(Date.now());
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      req.resume();
      res.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers }).end(JSON.stringify(answer.body ?? {}));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
  }
  const event = { type: "OPT_IN", topic: "T", identifier: "a@example.com", organization_id: "o", created_at: "2026-01-01T00:00:00.000Z" };

  it("waits Retry-After (seconds) after a 503, then answers the success", async () => {
    const server = await scripted([{ status: 503, headers: { "Retry-After": "1" } }, { status: 201, body: event }]);
    const client = getClient({ baseUrl: server.url });
    const started = Date.now();
    const { status, data } = await client.publishConsentEvent(null, { type: "OPT_IN", topic: "T", identifier: "a@example.com" });
    expect(status).toBe(201);
    expect(data).toEqual(event);
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1]! - server.seen[0]!).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("retries 429 with an HTTP-date Retry-After", async () => {
    const soon = new Date(Date.now() + 1_000).toUTCString();
    const server = await scripted([{ status: 429, headers: { "Retry-After": soon } }, { status: 200, body: { events: [], total: 0 } }]);
    const { data } = await getClient({ baseUrl: server.url }).listConsentEvents({ identifier: "a" });
    expect(data).toEqual({ events: [], total: 0 });
    expect(server.seen).toHaveLength(2);
  });

  it("gives up after the bounded number of retries and throws the last answer", async () => {
    const problem = { type: "urn:x", title: "Busy", status: 503, detail: "try later" };
    const server = await scripted([{ status: 503, headers: { "Retry-After": "0" }, body: problem }]);
    const error = await failure(getClient({ baseUrl: server.url, retries: 2 }).listConsentEvents({ identifier: "a" }));
    expect(error.status).toBe(503);
    expect(error.problem).toEqual(problem);
    expect(server.seen).toHaveLength(3);
  });

  it("does not wait for a Retry-After longer than maxRetryDelayMs, nor retry other statuses", async () => {
    const slow = await scripted([{ status: 429, headers: { "Retry-After": "3600" } }, { status: 200 }]);
    const started = Date.now();
    const error = await failure(getClient({ baseUrl: slow.url, maxRetryDelayMs: 2_000 }).listConsentEvents({ identifier: "a" }));
    expect(error.status).toBe(429);
    expect(slow.seen).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);

    const broken = await scripted([{ status: 500 }, { status: 200 }]);
    await expect(getClient({ baseUrl: broken.url }).listConsentEvents({ identifier: "a" })).rejects.toMatchObject({ status: 500 });
    expect(broken.seen).toHaveLength(1);
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
