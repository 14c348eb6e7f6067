import { describe, expect, it, vi } from "vitest";
import { basic, call, publish, uniqueEmail } from "../helpers/gateway";

const feed = (query: string, authorization = basic("acme")) => call(`/v1/events${query}`, { headers: { Authorization: authorization } });

async function pageThrough(query: string, authorization?: string) {
  const seen: any[] = [];
  let cursor: string | null = null;
  do {
    const response = await feed(`${query}${cursor ? `&cursor=${cursor}` : ""}`, authorization);
    expect(response.status).toBe(200);
    const page: { events: any[]; next_cursor: string | null } = await response.json();
    seen.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor);
  return seen;
}

describe("GET /v1/events", () => {
  it("lists the organization's events across identifiers by topic and time, oldest first, with cursors", async () => {
    const topic = `FEED-${crypto.randomUUID()}`;
    const since = new Date().toISOString();
    const people = [uniqueEmail("a"), uniqueEmail("b"), uniqueEmail("c")];
    for (const [i, identifier] of people.entries()) {
      expect((await publish({ type: "OPT_IN", topic, identifier, meta: { i } })).status).toBe(201);
      expect((await publish({ type: "OPT_OUT", topic: "OTHER", identifier })).status).toBe(201);
    }
    await publish({ type: "OPT_OUT", topic, identifier: people[0]! });
    await publish({ type: "OPT_IN", topic, identifier: uniqueEmail() }, basic("globex"));

    // The index trails the ledgers by the outbox delay.
    await vi.waitFor(async () => expect((await (await feed(`?topic=${topic}&limit=500`)).json<any>()).events).toHaveLength(4));

    const events = await pageThrough(`?topic=${topic}&since=${since}&limit=1`);
    // Oldest first; events of the same millisecond are ordered by identifier, then sequence.
    const key = (e: any) => `${e.created_at} ${e.identifier}`;
    expect(events.map(key)).toEqual(events.map(key).sort());
    expect(events.map((e) => `${e.identifier} ${e.type}`).sort()).toEqual(
      [`${people[0]} OPT_IN`, `${people[1]} OPT_IN`, `${people[2]} OPT_IN`, `${people[0]} OPT_OUT`].sort(),
    );
    expect(events.findIndex((e) => e.type === "OPT_OUT")).toBeGreaterThan(events.findIndex((e) => e.identifier === people[0]));
    expect(events.every((e) => e.organization_id === "org-acme" && e.topic === topic)).toBe(true);
    expect(events[0].meta).toEqual({ i: 0 });

    const optOuts = await pageThrough(`?topic=${topic}&type=OPT_OUT&limit=10`);
    expect(optOuts.map((e) => e.identifier)).toEqual([people[0]]);
    expect(await pageThrough(`?topic=${topic}&until=${since}`)).toEqual([]);
    const globex = await pageThrough(`?topic=${topic}`, basic("globex"));
    expect(globex.map((e) => e.organization_id)).toEqual(["org-globex"]);
  });

  it.each(["limit=0", "limit=501", "since=yesterday", "type=MAYBE", "cursor=bm9wZQ"])("refuses %s", async (query) => {
    const response = await feed(`?${query}`);
    expect(response.status).toBe(400);
    expect((await response.json<any>()).errors[0]).toMatchObject({ location: "query", path: query.split("=")[0] });
  });

  it("needs consent:read", async () => {
    expect((await feed("", basic("acme-writer"))).status).toBe(403);
    expect((await call("/v1/events")).status).toBe(401);
  });
});
