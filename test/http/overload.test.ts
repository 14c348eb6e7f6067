import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { captureConsole } from "../helpers/console";
import { basic, list, uniqueEmail } from "../helpers/gateway";

/** The real ledger namespace, whose objects answer every call with the platform's overload error. */
function overloadedLedgers(): Env["IDENTIFIER_LEDGER"] {
  const overloaded = () => Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true, retryable: false });
  return new Proxy(env.IDENTIFIER_LEDGER, {
    get(target, property) {
      if (property === "get") return () => new Proxy({}, { get: () => async () => { throw overloaded(); } });
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The real ledger namespace, whose objects fail as a reset one does: possibly after the event was committed. */
function resetLedgers(): Env["IDENTIFIER_LEDGER"] {
  const reset = () => Object.assign(new Error("Network connection lost."), { retryable: true });
  return new Proxy(env.IDENTIFIER_LEDGER, {
    get(target, property) {
      if (property === "get") return () => new Proxy({}, { get: () => async () => { throw reset(); } });
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The real D1 binding, answering every query as an overloaded database does. */
function overloadedD1(): D1Database {
  const refuse = () => {
    throw new Error("D1_ERROR: Database is overloaded. Requests queued for too long.");
  };
  const statement = () => ({ bind: () => ({ all: refuse, run: refuse, first: refuse, raw: refuse }), all: refuse, raw: refuse });
  // A session (an org-wide read's, D1-Bookmark) is as overloaded as the database it opens.
  const overloaded: D1Database = new Proxy(env.DB, { get: (_, property) => (property === "withSession" ? () => ({ ...overloaded, prepare: statement, getBookmark: () => null }) : statement) });
  return overloaded;
}

async function send(path: string, init: RequestInit, bindings: Partial<Env>) {
  const ctx = createExecutionContext();
  const response = await app.request(path, init, { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("acme") }, body: JSON.stringify(body) });

describe("overload", () => {
  it("an overloaded ledger: 503 with Retry-After, never a 500, and never a 201 for an event that was not stored", async () => {
    const identifier = uniqueEmail("overloaded");
    const logs = captureConsole();
    const response = await send("/v1/consent/publish", post({ type: "OPT_OUT", topic: "T", identifier }), { IDENTIFIER_LEDGER: overloadedLedgers() });
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await response.json()).toMatchObject({ type: "urn:consent-gateway:problem:overloaded", status: 503, detail: expect.stringContaining("nothing was recorded") });

    const copilot = await send("/v2/api/report/user_copilot_analysis_consent_changed", post({ consent_value: false, user_id: identifier }), {
      IDENTIFIER_LEDGER: overloadedLedgers(),
    });
    expect(copilot.status).toBe(503);
    expect(copilot.headers.get("Retry-After")).toBe("1");
    expect(await copilot.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: expect.stringContaining("busy") });

    // Nothing was recorded, and the refusals were logged as such.
    expect((await (await list(identifier)).json<any>()).total).toBe(0);
    expect(logs.lines()).toHaveLength(2);
    expect(logs.lines().every((line) => JSON.parse(line).message.includes("overloaded"))).toBe(true);
  });

  it("an overloaded D1 behind the feed: 503 with Retry-After", async () => {
    const logs = captureConsole();
    const response = await send("/v1/events", { headers: { Authorization: basic("acme") } }, { DB: overloadedD1() });
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(logs.lines()).toHaveLength(1);
  });
});

describe("a failure that may come after the commit", () => {
  it("answers 500 saying the request may have been recorded, on both surfaces", async () => {
    const identifier = uniqueEmail("reset");
    const logs = captureConsole();
    const response = await send("/v1/consent/publish", post({ type: "OPT_OUT", topic: "T", identifier }), { IDENTIFIER_LEDGER: resetLedgers() });
    expect(response.status).toBe(500);
    const problem = await response.json<any>();
    expect(problem).toMatchObject({ type: "urn:consent-gateway:problem:internal", status: 500 });
    expect(problem.detail).toContain("may have been recorded");
    expect(problem.detail).not.toMatch(/not (been )?(completed|recorded)|nothing was recorded/);

    const copilot = await send("/v2/api/report/user_copilot_analysis_consent_changed", post({ consent_value: false, user_id: identifier }), {
      IDENTIFIER_LEDGER: resetLedgers(),
    });
    expect(copilot.status).toBe(500);
    expect(await copilot.json()).toEqual({ reason: "COMMON.REQUEST_VALIDATION", error_message: problem.detail });
    expect(logs.lines().map((line) => JSON.parse(line).message)).toEqual(["unhandled error", "unhandled error"]);
  });
});
