import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../src/index";
import { describe, expect, it, vi } from "vitest";
import { captureConsole } from "../helpers/console";
import { basic, call, publish, uniqueEmail } from "../helpers/gateway";
import { ageEvents, capturingQueue, ledgerOf, publishWith } from "../helpers/ledger";

/** The feed pipeline delivers within its queue's batch timeout (1 s) plus a little. */
const FED = { timeout: 5_000 };

const feed = (query: string, authorization = basic("acme")) => call(`/v1/events${query}`, { headers: { Authorization: authorization } });

/** Every page from `cursor` on, as a poller reads them; answers the events and where to resume. */
async function pageThrough(query: string, authorization?: string, cursor: string | null = null) {
  const seen: any[] = [];
  for (;;) {
    const response = await feed(`${query}${cursor ? `&cursor=${cursor}` : ""}`, authorization);
    expect(response.status).toBe(200);
    const page: { events: any[]; next_cursor: string | null; has_more: boolean } = await response.json();
    seen.push(...page.events);
    cursor = page.next_cursor;
    if (!page.has_more) return Object.assign(seen, { resume: cursor });
  }
}

describe("GET /v1/events", () => {
  it("lists the organization's events across identifiers by topic and time, in the order they were indexed, with cursors", async () => {
    const topic = `FEED-${crypto.randomUUID()}`;
    const since = new Date().toISOString();
    const people = [uniqueEmail("a"), uniqueEmail("b"), uniqueEmail("c")];
    for (const [i, identifier] of people.entries()) {
      expect((await publish({ type: "OPT_IN", topic, identifier, meta: { i } })).status).toBe(201);
      expect((await publish({ type: "OPT_OUT", topic: "OTHER", identifier })).status).toBe(201);
    }
    await publish({ type: "OPT_OUT", topic, identifier: people[0]! });
    await publish({ type: "OPT_IN", topic, identifier: uniqueEmail() }, basic("globex"));

    // The index trails the ledgers by the index pipeline.
    await vi.waitFor(async () => expect((await (await feed(`?topic=${topic}&limit=500`)).json<any>()).events).toHaveLength(4), FED);

    const events = await pageThrough(`?topic=${topic}&since=${since}&limit=1`);
    expect(events.map((e) => `${e.identifier} ${e.type}`).sort()).toEqual(
      [`${people[0]} OPT_IN`, `${people[1]} OPT_IN`, `${people[2]} OPT_IN`, `${people[0]} OPT_OUT`].sort(),
    );
    expect(events.findIndex((e) => e.type === "OPT_OUT")).toBeGreaterThan(events.findIndex((e) => e.identifier === people[0]));
    expect(events.every((e) => e.organization_id === "org-acme" && e.topic === topic)).toBe(true);
    expect(events[0].meta).toEqual({ i: 0 });

    const optOuts = await pageThrough(`?topic=${topic}&type=OPT_OUT&limit=10`);
    expect(optOuts.map((e) => e.identifier)).toEqual([people[0]]);
    expect([...(await pageThrough(`?topic=${topic}&until=${since}`))]).toEqual([]);
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

  it("never skips an event indexed late: a poller holding a cursor receives it after an outage", async () => {
    const topic = `LATE-${crypto.randomUUID()}`;
    const early = uniqueEmail("early");
    await publish({ type: "OPT_IN", topic, identifier: early });
    await vi.waitFor(async () => expect((await (await feed(`?topic=${topic}`)).json<any>()).events).toHaveLength(1), FED);
    // A poller reads everything there is, and keeps its cursor.
    const first = await pageThrough(`?topic=${topic}`);
    expect(first.map((e) => e.identifier)).toEqual([early]);

    // An event created now reaches D1 only later (the queue refuses it; its ledger keeps it), while
    // newer events are indexed at once: by time the late one sorts before them, by landing after.
    const late = uniqueEmail("late");
    const { stub: ledger } = await ledgerOf("org-acme", late);
    const refusing = capturingQueue({ refusing: true });
    const logs = captureConsole();
    const held = await publishWith({ FEED_QUEUE: refusing.binding }, { type: "OPT_OUT", topic, identifier: late });
    expect(held.status).toBe(201);
    const lateEvent = await held.json<any>();
    expect(logs.lines()).toEqual([expect.stringContaining("the queue refuses sends (injected fault)")]);
    logs.restore();
    const newer = uniqueEmail("newer");
    await publish({ type: "OPT_IN", topic, identifier: newer });
    await vi.waitFor(async () => expect((await pageThrough(`?topic=${topic}`, undefined, first.resume)).map((e) => e.identifier)).toEqual([newer]), FED);

    // The late event's ledger re-sends it (its safety net), and the poller receives it after its cursor.
    expect(await ledger.pendingCount()).toBe(1);
    await ageEvents((await ledgerOf("org-acme", late)).stub, 60_000);
    await runDurableObjectAlarm((await ledgerOf("org-acme", late)).stub);
    await vi.waitFor(async () => expect(await ledger.pendingCount()).toBe(0), FED);
    const polled = await pageThrough(`?topic=${topic}`, undefined, first.resume);
    expect(polled.map((e) => e.identifier)).toEqual([newer, late]);
    // (Its ledger's clock was set back a minute, as if the outage had lasted that long.)
    expect(Date.parse(polled[1].created_at)).toBe(Date.parse(lateEvent.created_at) - 60_000);
    expect(Date.parse(polled[1].created_at)).toBeLessThan(Date.parse(polled[0].created_at));
  });
});

/** The SQL statements a D1 binding is asked to run, with their bindings, passed through to the real database. */
function recordingD1(real: D1Database) {
  const statements: { sql: string; params: unknown[] }[] = [];
  // The feed is read in a D1 session (README "Scaling"): its statements are recorded too.
  const recording = <T extends D1Database | D1DatabaseSession>(target: T): T =>
    new Proxy(target, {
      get(target, property) {
        if (property === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            const record = { sql, params: [] as unknown[] };
            statements.push(record);
            return new Proxy(statement, {
              get(s, p) {
                if (p === "bind") return (...params: unknown[]) => ((record.params = params), statement.bind(...params));
                const value = Reflect.get(s, p, s);
                return typeof value === "function" ? value.bind(s) : value;
              },
            });
          };
        }
        if (property === "withSession") return (constraint?: string) => recording((target as D1Database).withSession(constraint));
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const db = recording(real);
  return { db, statements };
}

describe("the feed's cursor and cost", () => {
  it("positions count only the organization's own events: another organization's volume leaves no gap", async () => {
    const topic = `PRIVATE-${crypto.randomUUID()}`;
    const first = uniqueEmail("first");
    expect((await publish({ type: "OPT_IN", topic, identifier: first })).status).toBe(201);
    await vi.waitFor(async () => expect((await (await feed(`?topic=${topic}`)).json<any>()).events).toHaveLength(1), FED);
    const before = (await (await feed(`?limit=500`)).json<any>()) as { next_cursor: string };
    // globex writes a lot meanwhile; acme writes one more event.
    await Promise.all(Array.from({ length: 20 }, () => publish({ type: "OPT_IN", topic, identifier: uniqueEmail("globex") }, basic("globex"))));
    expect((await publish({ type: "OPT_IN", topic, identifier: uniqueEmail("second") })).status).toBe(201);
    await vi.waitFor(async () => expect((await (await feed(`?topic=${topic}`)).json<any>()).events).toHaveLength(2), FED);
    const after = await (await feed(`?limit=500&cursor=${before.next_cursor}`)).json<any>();
    const position = (cursor: string) => Number(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")).slice(1));
    // Whatever else acme wrote meanwhile (other tests run too), globex's 20 events are not counted.
    expect(position(after.next_cursor) - position(before.next_cursor)).toBe(after.events.length);
  });

  it("a poll for a rare type reads about as many rows as it answers, not every row since its last match", async () => {
    const topic = `RARE-${crypto.randomUUID()}`;
    const rare = uniqueEmail("rare");
    expect((await publish({ type: "OPT_OUT", topic, identifier: rare })).status).toBe(201);
    await vi.waitFor(async () => expect((await (await feed(`?type=OPT_OUT&topic=${topic}`)).json<any>()).events).toHaveLength(1), FED);
    const { next_cursor } = await (await feed(`?type=OPT_OUT&limit=500`)).json<any>();
    // 200 common events land after the last OPT_OUT.
    await Promise.all(Array.from({ length: 200 }, () => publish({ type: "OPT_IN", topic, identifier: uniqueEmail("common") })));
    await vi.waitFor(async () => expect((await (await feed(`?topic=${topic}&type=OPT_IN&limit=500`)).json<any>()).events).toHaveLength(200), { timeout: 15_000 });

    const { db, statements } = recordingD1(env.DB);
    const poll = await app.request(`/v1/events?type=OPT_OUT&cursor=${next_cursor}`, { headers: { Authorization: basic("acme") } }, { ...env, DB: db });
    expect(poll.status).toBe(200);
    // D1 says how many rows the poll's own statement read.
    const [statement] = statements;
    const { meta } = await env.DB.prepare(statement!.sql).bind(...statement!.params).all();
    expect(meta.rows_read).toBeLessThanOrEqual(5);
  }, 30_000);
});
