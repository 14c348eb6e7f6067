import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as pty from "@lydell/node-pty";
import { SignJWT } from "jose";
import { afterAll, beforeEach, describe, expect, inject, it } from "vitest";
import { E2E_CLIENT, E2E_HOOKS_CLIENT, E2E_JWT_SECRET } from "./settings";

/**
 * The `consent-gateway` CLI (package.json "bin"), run as a user runs it, against wrangler dev.
 * Every run gets its own empty config home, so profiles start from nothing.
 */

const root = path.resolve(import.meta.dirname, "../..");
const bin = path.join(root, JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).bin["consent-gateway"]);
const server = inject("gatewayUrl");
const basic = `${E2E_CLIENT.id}:${E2E_CLIENT.secret}`;
const scratch = mkdtempSync(path.join(tmpdir(), "consent-gateway-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let configHome: string;
beforeEach(() => {
  configHome = mkdtempSync(path.join(scratch, "config-"));
});

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(CONSENT_GATEWAY_|NO_COLOR$|FORCE_COLOR$)/.test(key)) env[key] = value;
  }
  return { ...env, XDG_CONFIG_HOME: configHome, ...extra } as unknown as NodeJS.ProcessEnv;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with stdin piped (`input`, or closed at once). */
function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * Runs the CLI in a pseudo-terminal and types `keys` each time `prompt` shows up, in order:
 * a person at a terminal, scripted.
 */
function cliInTerminal(args: string[], steps: [prompt: RegExp, keys: string][]): Promise<{ code: number; screen: string; raw: string; answered: number }> {
  return new Promise((resolve, reject) => {
    const term = pty.spawn(process.execPath, [bin, ...args], { cols: 200, rows: 60, cwd: root, env: cleanEnv() });
    let screen = "";
    let consumed = 0;
    let answered = 0;
    const timer = setTimeout(() => {
      term.kill();
      reject(new Error(`the CLI did not finish; screen so far:\n${screen.replace(ANSI, "")}`));
    }, 20_000);
    term.onData((data) => {
      screen += data;
      const plain = screen.replace(ANSI, "");
      while (answered < steps.length) {
        const at = plain.slice(consumed).search(steps[answered]![0]);
        if (at < 0) break;
        consumed += at + 1;
        term.write(steps[answered]![1]);
        answered++;
      }
    });
    term.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ code: exitCode, screen: screen.replace(ANSI, ""), raw: screen, answered });
    });
  });
}

function unique(prefix: string) {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

async function jwt() {
  return new SignJWT({ organization_id: E2E_CLIENT.organizationId })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(E2E_JWT_SECRET));
}

async function publish(identifier: string, type: "OPT_IN" | "OPT_OUT", topic = "EMAIL_MARKETING") {
  const run = await cli(["consent", "publishConsentEvent", "-s", server, "--basic", basic, "-d", JSON.stringify({ type, topic, identifier })]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

describe("operations from the document", () => {
  it("`consent` lists every operation with its summary", async () => {
    const run = await cli(["consent"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/publishConsentEvent\s+Publishes consent event on event bus, which appends to consent store/);
    expect(run.stdout).toMatch(/listConsentEvents\s+List opt-ins and opt-outs by customer identifier/);
    expect(run.stdout).toMatch(/handleOptInWithToken\s+Endpoint to handle opt-in links/);
    expect(run.stdout).toContain("requestDoubleOptIn");
  });

  it("`consent <op> --help` shows the parameters and a sample body from the schema", async () => {
    const publish = await cli(["consent", "publishConsentEvent", "--help"]);
    expect(publish.code).toBe(0);
    expect(publish.stdout).toContain("POST /v1/consent/publish");
    expect(publish.stdout).toMatch(/type\s+"OPT_IN" \| "OPT_OUT", required/);
    const sample = publish.stdout.split("Sample body:\n")[1]!.split("\n\n")[0]!;
    expect(JSON.parse(sample)).toMatchObject({ type: "OPT_IN", topic: "EMAIL_MARKETING", identifier: "exampleuser@epilot.cloud" });

    const list = await cli(["consent", "listConsentEvents", "--help"]);
    expect(list.stdout).toMatch(/identifier\s+path\s+string, required/);
    expect(list.stdout).toMatch(/limit\s+query\s+integer, optional, default 50/);
    expect(list.stdout).toContain("consent-gateway consent listConsentEvents <identifier>");
    expect(list.stdout).not.toContain("Sample body");
  });

  it("--definition uses another document: a renamed operation and a changed summary show and work", async () => {
    const document = JSON.parse(readFileSync(path.join(root, "openapi.json"), "utf8"));
    document.paths["/v1/consent/publish"].post.operationId = "recordConsent";
    document.paths["/v1/consent/{identifier}"].get.summary = "Every consent event of one person, newest first";
    const file = path.join(scratch, "modified-openapi.json");
    writeFileSync(file, JSON.stringify(document));

    const listing = await cli(["consent", "--definition", file]);
    expect(listing.stdout).toMatch(/recordConsent\s+Publishes consent event/);
    expect(listing.stdout).toMatch(/listConsentEvents\s+Every consent event of one person, newest first/);
    expect(listing.stdout).not.toContain("publishConsentEvent");

    const identifier = unique("definition");
    const recorded = await cli(["consent", "recordConsent", "--definition", file, "-s", server, "--basic", basic, "-d", JSON.stringify({ type: "OPT_IN", topic: "T", identifier })]);
    expect(recorded.code, recorded.stderr).toBe(0);
    expect(JSON.parse(recorded.stdout).identifier).toBe(identifier);

    const gone = await cli(["consent", "publishConsentEvent", "--definition", file, "-s", server, "--basic", basic, "-d", "{}"]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('unknown operation "publishConsentEvent"');
  });

  it("--definition takes a URL (the served document)", async () => {
    const run = await cli(["consent", "--definition", `${server}/openapi.json`]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("publishConsentEvent");
  });
});

describe("calling operations", () => {
  it("publishes with -d (Basic client) and lists with a positional identifier and -p", async () => {
    const identifier = unique("Cli");
    const event = await publish(identifier, "OPT_IN");
    expect(event).toMatchObject({ type: "OPT_IN", identifier: identifier.toLowerCase(), organization_id: "org-e2e" });
    await publish(identifier, "OPT_OUT");

    const positional = await cli(["consent", "listConsentEvents", identifier, "-p", "limit=1", "-s", server, "--basic", basic]);
    expect(positional.code, positional.stderr).toBe(0);
    const page = JSON.parse(positional.stdout);
    expect(page.total).toBe(2);
    expect(page.events.map((e: { type: string }) => e.type)).toEqual(["OPT_OUT"]);

    const named = await cli(["consent", "listConsentEvents", "-p", `identifier=${identifier}`, "-p", "from=1", "-s", server, "--basic", basic]);
    expect(JSON.parse(named.stdout).events.map((e: { type: string }) => e.type)).toEqual(["OPT_IN"]);
  });

  it("publishes a body piped on stdin, with a Bearer token (-t)", async () => {
    const identifier = unique("stdin");
    const run = await cli(["consent", "publishConsentEvent", "-s", server, "-t", await jwt()], {
      input: JSON.stringify({ type: "OPT_IN", topic: "NEWSLETTER", identifier, meta: { via: "stdin" } }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ identifier, topic: "NEWSLETTER", meta: { via: "stdin" } });
  });

  it("imports an NDJSON file (-H Content-Type: application/x-ndjson), from stdin and with -d", async () => {
    const [a, b] = [unique("import-a"), unique("import-b")];
    const file = path.join(scratch, "events.ndjson");
    const lines = [
      { event_id: `crm-${a}`, type: "OPT_IN", topic: "NEWSLETTER", identifier: a, occurred_at: "2024-03-01T09:30:00+01:00" },
      { event_id: `crm-${b}`, type: "OPT_OUT", topic: "NEWSLETTER", identifier: b, occurred_at: "2024-03-02T09:30:00Z" },
    ];
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
    const ndjson = ["-H", "Content-Type: application/x-ndjson"];
    const piped = await cli(["consent", "importConsentEvents", "-s", server, "--basic", basic, ...ndjson, "--json"], { input: readFileSync(file, "utf8") });
    expect(piped.code, piped.stderr).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ stored: 2, duplicates: 0, refused: 0, results: [{ line: 1, status: "stored", seq: 1 }, { line: 2, status: "stored", seq: 1 }] });
    const again = await cli(["consent", "importConsentEvents", "-s", server, "--basic", basic, ...ndjson, "-d", readFileSync(file, "utf8")]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ stored: 0, duplicates: 2 });
    // Without the header the CLI reads the body as JSON, and NDJSON is not.
    const unlabelled = await cli(["consent", "importConsentEvents", "-s", server, "--basic", basic], { input: readFileSync(file, "utf8") });
    expect(unlabelled.code).toBe(2);
    expect(unlabelled.stderr).toMatch(/the body on stdin is not valid JSON/);
    // A JSON array needs no header.
    const array = await cli(["consent", "importConsentEvents", "-s", server, "--basic", basic, "-d", JSON.stringify(lines)]);
    expect(JSON.parse(array.stdout)).toMatchObject({ duplicates: 2 });
  });

  it("publishes with --guided, answered in a terminal, then lists what it recorded", async () => {
    const identifier = unique("guided");
    const steps: [RegExp, string][] = [
      [/\? Idempotency-Key \[header\] \(/, `${identifier}-key\r`],
      [/\? Prefer \[header\] \(/, "\r"], // optional: left out (no receipt)
      [/\? type \(/, "\x1b[B\r"], // arrow down: OPT_OUT
      [/\? topic \(/, "NEWSLETTER\r"],
      [/\? source \(/, "\r"], // optional: left out
      [/\? identifier \(/, `${identifier}\r`],
      [/\? meta \(/, '{"via":"guided"}\r'],
    ];
    const run = await cliInTerminal(["consent", "publishConsentEvent", "--guided", "-s", server, "--basic", basic], steps);
    expect(run.answered).toBe(steps.length);
    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toContain('"organization_id": "org-e2e"');

    const list = await cli(["consent", "listConsentEvents", identifier, "-s", server, "--basic", basic, "--json"]);
    const [event] = JSON.parse(list.stdout).events;
    expect(event).toMatchObject({ type: "OPT_OUT", topic: "NEWSLETTER", identifier, meta: { via: "guided" } });
    expect(event.source).toBeUndefined();
  });

  it("prompts in a terminal for a missing path parameter, unless --no-interactive", async () => {
    const identifier = unique("prompted");
    await publish(identifier, "OPT_IN");
    const run = await cliInTerminal(["consent", "listConsentEvents", "-s", server, "--basic", basic, "--jsonata", "total"], [[/\? identifier \[path\]/, `${identifier}\r`]]);
    expect(run.code, run.screen).toBe(0);
    expect(run.screen.trim().endsWith("1")).toBe(true);

    const refused = await cliInTerminal(["consent", "listConsentEvents", "-s", server, "--basic", basic, "--no-interactive"], []);
    expect(refused.code).toBe(2);
    expect(refused.screen).toContain('listConsentEvents needs parameter "identifier"');
  });

  it("--jsonata transforms the answer", async () => {
    const identifier = unique("jsonata");
    await publish(identifier, "OPT_IN", "A");
    await publish(identifier, "OPT_IN", "B");
    const topics = await cli(["consent", "listConsentEvents", "-p", `identifier=${identifier}`, "--jsonata", "events.topic", "-s", server, "--basic", basic]);
    expect(topics.code).toBe(0);
    expect(JSON.parse(topics.stdout)).toEqual(["B", "A"]);
    const type = await cli(["consent", "publishConsentEvent", "--jsonata", "type", "-s", server, "--basic", basic, "-d", JSON.stringify({ type: "OPT_OUT", topic: "A", identifier })]);
    expect(type.stdout).toBe("OPT_OUT\n");
  });

  it("-i prints the status and headers; --json prints raw JSON; piped output is plain, indented JSON", async () => {
    const identifier = unique("include");
    await publish(identifier, "OPT_IN");
    const included = await cli(["consent", "listConsentEvents", identifier, "-i", "-s", server, "--basic", basic]);
    const [head, body] = included.stdout.split("\n\n");
    expect(head).toMatch(/^HTTP 200 OK\n/);
    expect(head).toMatch(/^content-type: application\/json/m);
    expect(JSON.parse(body!).total).toBe(1);

    const raw = await cli(["consent", "listConsentEvents", identifier, "--json", "-s", server, "--basic", basic]);
    expect(raw.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(raw.stdout).total).toBe(1);

    const piped = await cli(["consent", "listConsentEvents", identifier, "-s", server, "--basic", basic]);
    expect(piped.stdout).toBe(`${JSON.stringify(JSON.parse(raw.stdout), null, 2)}\n`);
    expect(piped.stdout).not.toMatch(ANSI);
  });

  it("colours JSON on a terminal", async () => {
    const run = await cliInTerminal(["consent", "listConsentEvents", unique("colour"), "-s", server, "--basic", basic], []);
    expect(run.code).toBe(0);
    expect(run.raw).toMatch(/\x1b\[\d+m"events"/);
    expect(JSON.parse(run.screen)).toEqual({ events: [], total: 0 });
  });

  it("-v prints the request with the credentials masked", async () => {
    const token = await jwt();
    const run = await cli(["consent", "listConsentEvents", "someone@example.com", "-v", "-s", server, "-t", token, "-H", "X-Trace: cli-test"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`> GET ${server}/v1/consent/someone%40example.com`);
    expect(run.stderr).toContain("> authorization: Bearer ********");
    expect(run.stderr).toContain("> x-trace: cli-test");
    expect(run.stderr).toContain("< 200 OK");
    expect(run.stderr).not.toContain(token);
    expect(run.stderr).not.toContain(token.slice(-12));
  });

  it("calls the public opt-in page without credentials and prints its HTML", async () => {
    const doi = await cli(["consent", "requestDoubleOptIn", "-s", server, "--basic", basic, "-d", JSON.stringify({ topic: "NEWSLETTER", identifier: unique("doi") })]);
    expect(doi.code, doi.stderr).toBe(0);
    const token = new URL(JSON.parse(doi.stdout).opt_in_url).pathname.split("/").pop()!;
    const page = await cli(["consent", "handleOptInWithToken", token, "-p", "lang=en", "-s", server]);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toMatch(/^<!doctype html><html lang="en"/i);
  });

  it("-o writes the answer to a file: the export of a history, nothing on stdout", async () => {
    const identifier = unique("export");
    await publish(identifier, "OPT_IN", "A");
    await publish(identifier, "OPT_OUT", "A");
    const file = path.join(configHome, "export.json");
    const run = await cli(["consent", "exportConsentHistory", identifier, "-o", file, "-s", server, "--basic", basic]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("");
    const text = readFileSync(file, "utf8");
    const document = JSON.parse(text);
    expect(text).toBe(`${JSON.stringify(document, null, 2)}\n`);
    expect(document).toMatchObject({ identifier, state: { topics: [{ topic: "A", status: "withdrawn" }] } });
    expect(document.events.map((e: { seq: number; type: string; receipt: string }) => [e.seq, e.type, typeof e.receipt])).toEqual([
      [1, "OPT_IN", "string"],
      [2, "OPT_OUT", "string"],
    ]);
    // --json writes it raw; an error answer writes no file and says why on stderr.
    const raw = await cli(["consent", "exportConsentHistory", identifier, "--output", file, "--json", "-s", server, "--basic", basic]);
    expect(raw.code).toBe(0);
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(1);
    const refused = await cli(["consent", "exportConsentHistory", identifier, "-o", path.join(configHome, "refused.json"), "-s", server, "--basic", "e2e:wrong"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("401");
    expect(() => statSync(path.join(configHome, "refused.json"))).toThrow();
  });
});

describe("profiles and credentials", () => {
  it("add, list, use, remove; the profile's server and credentials are used; 0600", async () => {
    const add = await cli(["profile", "add", "e2e", "-s", server, "--basic", basic, "-H", "X-Team: growth"]);
    expect(add.code, add.stderr).toBe(0);
    const file = path.join(configHome, "consent-gateway", "profiles.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      current: "e2e",
      profiles: { e2e: { server, basic, headers: { "X-Team": "growth" } } },
    });
    expect((await cli(["profile", "add", "jwt", "-s", server, "-t", await jwt()])).code).toBe(0);
    expect((await cli(["profile", "add", "nowhere", "-s", "http://127.0.0.1:9", "-t", "nope"])).code).toBe(0);

    const list = await cli(["profile", "list"]);
    expect(list.stdout).toMatch(/^\* e2e {2}http:\/\/127\.0\.0\.1:\d+ {2}\(basic e2e:\*+\)$/m);
    expect(list.stdout).toMatch(/^ {2}jwt .*\(bearer token\)$/m);
    expect(list.stdout).not.toContain(E2E_CLIENT.secret);

    // The current profile (e2e, Basic) is used: no -s, no credentials on the command line.
    const identifier = unique("profile");
    const viaCurrent = await cli(["consent", "publishConsentEvent", "-v", "-d", JSON.stringify({ type: "OPT_IN", topic: "T", identifier })]);
    expect(viaCurrent.code, viaCurrent.stderr).toBe(0);
    expect(viaCurrent.stderr).toContain("> authorization: Basic ********");
    expect(viaCurrent.stderr).toContain("> x-team: growth");

    // --profile picks another one; `profile use` changes the default.
    expect((await cli(["consent", "listConsentEvents", identifier, "--profile", "jwt", "--jsonata", "total"])).stdout).toBe("1\n");
    expect((await cli(["profile", "use", "nowhere"])).code).toBe(0);
    const unreachable = await cli(["consent", "listConsentEvents", identifier]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("cannot reach http://127.0.0.1:9");
    expect((await cli(["consent", "listConsentEvents", identifier, "-s", server, "--basic", basic])).code).toBe(0);

    // Token resolution: --token, then CONSENT_GATEWAY_TOKEN, then the profile.
    expect((await cli(["profile", "use", "e2e"])).code).toBe(0);
    const badEnv = await cli(["consent", "listConsentEvents", identifier], { env: { CONSENT_GATEWAY_TOKEN: "not-a-jwt" } });
    expect(badEnv.code).toBe(1);
    expect(badEnv.stderr).toContain("urn:consent-gateway:problem:unauthorized");
    const flagWins = await cli(["consent", "listConsentEvents", identifier, "-t", await jwt()], { env: { CONSENT_GATEWAY_TOKEN: "not-a-jwt" } });
    expect(flagWins.code, flagWins.stderr).toBe(0);

    expect((await cli(["profile", "remove", "e2e"])).code).toBe(0);
    const after = JSON.parse(readFileSync(file, "utf8"));
    expect(Object.keys(after.profiles).sort()).toEqual(["jwt", "nowhere"]);
    expect(after.current).toBeUndefined();
    expect((await cli(["consent", "listConsentEvents", identifier, "--profile", "e2e"])).code).toBe(2);
  });

  it("an empty -t or --basic (an unset variable) is warned about on stderr and sends or saves no credentials", async () => {
    const add = await cli(["profile", "add", "e2e", "-s", server, "--basic", basic]);
    expect(add.stderr).toBe("");

    // The profile has credentials, but `-t "$TOKEN"` said which to send: none, and a warning says so.
    const emptyToken = await cli(["consent", "listConsentEvents", "x@example.com", "-v", "-t", ""]);
    expect(emptyToken.code).toBe(1);
    expect(emptyToken.stderr.split("\n")[0]).toBe("consent-gateway: warning: -t/--token is empty; sending no bearer token");
    expect(emptyToken.stderr).not.toContain("> authorization:");
    expect(emptyToken.stderr).toContain("urn:consent-gateway:problem:unauthorized");

    const emptyBasic = await cli(["consent", "listConsentEvents", "x@example.com", "--token=", "--basic", ""]);
    expect(emptyBasic.code).toBe(1);
    expect(emptyBasic.stderr).toMatch(
      /^consent-gateway: warning: -t\/--token is empty; sending no bearer token\nconsent-gateway: warning: --basic is empty; sending no API client credentials\n\{/,
    );

    const saved = await cli(["profile", "add", "blank", "-s", server, "-t", ""]);
    expect(saved.code).toBe(0);
    expect(saved.stderr).toBe("consent-gateway: warning: -t/--token is empty; saving no bearer token\n");
    const savedBasic = await cli(["profile", "add", "blank-basic", "-s", server, "--basic", ""]);
    expect(savedBasic.stderr).toBe("consent-gateway: warning: --basic is empty; saving no API client credentials\n");
    const { profiles } = JSON.parse(readFileSync(path.join(configHome, "consent-gateway", "profiles.json"), "utf8"));
    expect(profiles.blank).toEqual({ server });
    expect(profiles["blank-basic"]).toEqual({ server });

    const token = await cli(["consent", "listConsentEvents", "x@example.com", "-t", await jwt()]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stderr).toBe("");
  });
});

describe("webhook commands", () => {
  it("create, list, rotate the secret, list deliveries and delete an endpoint", async () => {
    const hooks = ["-s", server, "--basic", `${E2E_HOOKS_CLIENT.id}:${E2E_HOOKS_CLIENT.secret}`];
    const created = await cli(["consent", "createWebhook", ...hooks, "-d", JSON.stringify({ url: "https://crm.example.com/cli-hook", description: "from the CLI" })]);
    expect(created.code, created.stderr).toBe(0);
    const endpoint = JSON.parse(created.stdout);
    expect(endpoint).toMatchObject({ url: "https://crm.example.com/cli-hook", description: "from the CLI", secret: expect.stringMatching(/^whsec_/) });

    const listed = await cli(["consent", "listWebhooks", ...hooks]);
    expect(JSON.parse(listed.stdout).webhooks).toContainEqual(expect.objectContaining({ id: endpoint.id, url: endpoint.url }));
    expect(listed.stdout).not.toContain(endpoint.secret);

    const rotated = await cli(["consent", "rotateWebhookSecret", endpoint.id, ...hooks]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ id: endpoint.id, secret: expect.stringMatching(/^whsec_/), previous_secret_expires_at: expect.any(String) });

    const deliveries = await cli(["consent", "listWebhookDeliveries", endpoint.id, "-p", "limit=5", ...hooks]);
    expect(JSON.parse(deliveries.stdout)).toEqual({ deliveries: [] });

    const deleted = await cli(["consent", "deleteWebhook", endpoint.id, ...hooks]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const again = await cli(["consent", "deleteWebhook", endpoint.id, ...hooks]);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr)).toMatchObject({ status: 404, type: "urn:consent-gateway:problem:not_found" });
  });

  it("the e2e client, which does not name webhooks:manage, is refused", async () => {
    const run = await cli(["consent", "listWebhooks", "-s", server, "--basic", basic]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr)).toMatchObject({ status: 403 });
  });
});

describe("exit codes", () => {
  it("1 on an HTTP error, with the problem details on stderr", async () => {
    const unauthorized = await cli(["consent", "listConsentEvents", "x@example.com", "-s", server]);
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stdout).toBe("");
    expect(JSON.parse(unauthorized.stderr)).toMatchObject({ status: 401, type: "urn:consent-gateway:problem:unauthorized" });

    const invalid = await cli(["consent", "publishConsentEvent", "-s", server, "--basic", basic, "-d", '{"type":"MAYBE","topic":"T","identifier":"x@example.com"}']);
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stderr)).toMatchObject({ status: 400, type: "urn:consent-gateway:problem:validation", errors: [{ path: "type" }] });

    const copilot = await cli(["consent", "reportCopilotAnalysisConsentChanged", "-s", server, "--basic", basic, "-d", '{"user_id":"u-1"}']);
    expect(copilot.code).toBe(1);
    expect(JSON.parse(copilot.stderr)).toMatchObject({ reason: "COMMON.REQUEST_VALIDATION" });

    const wrongSecret = await cli(["consent", "listConsentEvents", "x@example.com", "-s", server, "--basic", "e2e:wrong"]);
    expect(wrongSecret.code).toBe(1);
  });

  it("2 on bad usage, with a message that says what is wrong", async () => {
    const cases: [string[], RegExp][] = [
      [["consent", "noSuchOperation"], /unknown operation "noSuchOperation"/],
      [["consent", "publishconsentevent", "-d", "{}"], /did you mean publishConsentEvent\?/],
      [["consent", "listConsentEvents", "-p", "identifier"], /-p 'identifier': expected key=value/],
      [["consent", "listConsentEvents", "a", "b"], /takes 1 more path argument\(s\) \(identifier\), got 2/],
      [["consent", "listConsentEvents", "a", "-p", "colour=red"], /has no parameter colour/],
      [["consent", "listConsentEvents", "--no-interactive"], /needs parameter "identifier"/],
      [["consent", "publishConsentEvent", "--no-interactive"], /needs a request body/],
      [["consent", "publishConsentEvent", "-d", "{not json"], /-d is not valid JSON/],
      [["consent", "listConsentEvents", "a", "-d", "{}"], /takes no request body/],
      [["consent", "listConsentEvents", "a", "--guided", "--no-interactive"], /exclude each other/],
      [["consent", "listConsentEvents", "a", "--frobnicate"], /Unknown option '--frobnicate'/],
      [["consent", "listConsentEvents", "a", "-H", "no-colon"], /expected 'Key: Value'/],
      [["consent", "--definition", path.join(scratch, "missing.json")], /cannot read it \(ENOENT\)/],
      [["profile", "add", "x"], /needs -s <url>/],
      [["frobnicate"], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args[0] === "consent" ? [...args, "-s", server] : args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(message);
    }
  });
});
