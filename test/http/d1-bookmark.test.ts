import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { basic, call } from "../helpers/gateway";
import { callWith } from "../helpers/limits";

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
/** The org-wide reads, each with a client that may make it (webhook lists need webhooks:manage). */
const READS = [
  ["/v1/events", "acme"],
  ["/v1/consent?topic=NEWSLETTER&status=granted", "acme"],
  ["/v1/webhooks", "hooks"],
] as const;

/** The real D1 binding, keeping what each withSession was asked for. */
function sessionsOf(real: D1Database) {
  const asked: (string | undefined)[] = [];
  const db = new Proxy(real, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "withSession") return (constraint?: string) => (asked.push(constraint), target.withSession(constraint));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { asked, db };
}

describe.each(READS)("GET %s in a D1 session", (path, client) => {
  it("answers the session's bookmark, on any replica when the client sent none", async () => {
    const { asked, db } = sessionsOf(env.DB);
    const response = await callWith({ DB: db }, path, { headers: { Authorization: basic(client) } });
    expect(response.status).toBe(200);
    expect(response.headers.get("D1-Bookmark")).toMatch(BOOKMARK);
    expect(asked).toEqual(["first-unconstrained"]);
  });

  it("reads from the bookmark sent back, and answers one at least as recent", async () => {
    const first = await call(path, { headers: { Authorization: basic(client) } });
    const bookmark = first.headers.get("D1-Bookmark")!;
    const { asked, db } = sessionsOf(env.DB);
    const again = await callWith({ DB: db }, path, { headers: { Authorization: basic(client), "D1-Bookmark": bookmark } });
    expect(again.status).toBe(200);
    expect(asked).toEqual([bookmark]);
    expect(again.headers.get("D1-Bookmark")! >= bookmark).toBe(true);
  });

  it.each(["garbage", "first-primary", "00000000-00000009-00000000", `${"0".repeat(8)}-${"0".repeat(8)}-${"0".repeat(8)}-${"g".repeat(32)}`])(
    "refuses a malformed bookmark %j with a 400 naming the header, before reading",
    async (bad) => {
      const { asked, db } = sessionsOf(env.DB);
      const response = await callWith({ DB: db }, path, { headers: { Authorization: basic(client), "D1-Bookmark": bad } });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        type: "urn:consent-gateway:problem:validation",
        errors: [{ location: "header", path: "D1-Bookmark", code: "invalid_format" }],
      });
      expect(asked).toEqual([]);
    },
  );
});
