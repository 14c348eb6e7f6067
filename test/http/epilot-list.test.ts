import { describe, expect, it } from "vitest";
import { list, publish, uniqueEmail } from "../helpers/gateway";

async function seedHistory(identifier: string, topics: string[]) {
  for (const [i, topic] of topics.entries()) {
    const response = await publish({ type: i % 2 ? "OPT_OUT" : "OPT_IN", topic, identifier, meta: { n: i } });
    expect(response.status).toBe(201);
  }
}

describe("GET /v1/consent/{identifier}", () => {
  it("answers {events, total}, newest first in append order", async () => {
    const identifier = uniqueEmail();
    await seedHistory(identifier, ["A", "B", "A", "C"]);
    const response = await list(identifier);
    expect(response.status).toBe(200);
    const body = await response.json<any>();
    expect(body.total).toBe(4);
    expect(body.events.map((e: any) => e.meta.n)).toEqual([3, 2, 1, 0]);
    expect(body.events[0]).toEqual({
      type: "OPT_OUT",
      topic: "C",
      identifier,
      meta: { n: 3 },
      organization_id: "org-acme",
      created_at: expect.any(String),
      seq: 4,
      prev_hash: body.events[1].hash,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      proof: { recorded_by: "acme", request_id: expect.any(String) },
    });
    const times = body.events.map((e: any) => e.created_at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("filters by topic, and total counts the filtered set", async () => {
    const identifier = uniqueEmail();
    await seedHistory(identifier, ["A", "B", "A", "C", "A"]);
    const body = await (await list(identifier, "?topic=A")).json<any>();
    expect(body.total).toBe(3);
    expect(body.events.map((e: any) => [e.topic, e.meta.n])).toEqual([["A", 4], ["A", 2], ["A", 0]]);
    expect(await (await list(identifier, "?topic=Z")).json()).toEqual({ events: [], total: 0 });
  });

  it("pages with limit and from, without overlap or gaps", async () => {
    const identifier = uniqueEmail();
    await seedHistory(identifier, Array.from({ length: 7 }, () => "T"));
    const seen: number[] = [];
    for (let from = 0; from < 9; from += 3) {
      const page = await (await list(identifier, `?limit=3&from=${from}`)).json<any>();
      expect(page.total).toBe(7);
      seen.push(...page.events.map((e: any) => e.meta.n));
    }
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0]);
  });

  it("defaults to 50 events from offset 0", async () => {
    const identifier = uniqueEmail();
    await seedHistory(identifier, Array.from({ length: 52 }, () => "T"));
    const page = await (await list(identifier)).json<any>();
    expect(page.total).toBe(52);
    expect(page.events).toHaveLength(50);
    expect(page.events[0].meta.n).toBe(51);
  });

  it("accepts the bounds limit=1, limit=100 and from=0", async () => {
    const identifier = uniqueEmail();
    for (const query of ["?limit=1", "?limit=100", "?from=0"]) {
      expect((await list(identifier, query)).status, query).toBe(200);
    }
  });

  it.each(["limit=0", "limit=101", "limit=1.5", "limit=abc", "limit=", "from=-1", "from=2.5", "from=x"])(
    "refuses %s with a 400 naming the parameter",
    async (query) => {
      const response = await list(uniqueEmail(), `?${query}`);
      expect(response.status).toBe(400);
      const problem = await response.json<any>();
      expect(problem.errors).toEqual([expect.objectContaining({ location: "query", path: query.split("=")[0] })]);
      expect(problem.errors[0].message).toMatch(/^must be /);
    },
  );

  it("finds the same person under any spelling of the identifier", async () => {
    const identifier = uniqueEmail("Case");
    await seedHistory(identifier.toUpperCase(), ["A"]);
    const body = await (await list(` ${identifier.toLowerCase()} `)).json<any>();
    expect(body.total).toBe(1);
    expect(body.events[0].identifier).toBe(identifier.toLowerCase());
  });

  it("keeps identifiers with slashes and other reserved characters apart", async () => {
    const base = crypto.randomUUID();
    await seedHistory(`${base}/a?b#c`, ["A"]);
    const exact = await (await list(`${base}/a?b#c`)).json<any>();
    expect(exact.total).toBe(1);
    expect(exact.events[0].identifier).toBe(`${base}/a?b#c`);
    expect(await (await list(`${base}/a`)).json()).toEqual({ events: [], total: 0 });
  });

  it("answers an unknown identifier with an empty list", async () => {
    expect(await (await list(uniqueEmail())).json()).toEqual({ events: [], total: 0 });
  });
});

describe("pages that never overlap", () => {
  it("next_cursor pins the next page to what the first one saw: an append between pages repeats nothing and skips nothing", async () => {
    const identifier = uniqueEmail("paging");
    await seedHistory(identifier, ["A", "A", "A", "A", "A"]);
    const first = await (await list(identifier, "?limit=2")).json<any>();
    expect(first.events.map((e: any) => e.meta.n)).toEqual([4, 3]);
    expect(first.next_cursor).toEqual(expect.any(String));
    // Someone appends between the two pages.
    expect((await publish({ type: "OPT_IN", topic: "A", identifier, meta: { n: 5 } })).status).toBe(201);
    const second = await (await list(identifier, `?limit=2&cursor=${first.next_cursor}`)).json<any>();
    expect(second.events.map((e: any) => e.meta.n)).toEqual([2, 1]);
    const last = await (await list(identifier, `?limit=2&cursor=${second.next_cursor}`)).json<any>();
    expect(last.events.map((e: any) => e.meta.n)).toEqual([0]);
    expect(last).not.toHaveProperty("next_cursor");
    expect(last.total).toBe(6);
  });

  it("refuses a cursor it did not hand out", async () => {
    const response = await list(uniqueEmail(), "?cursor=bm9wZQ");
    expect(response.status).toBe(400);
    expect((await response.json<any>()).errors[0]).toMatchObject({ path: "cursor", code: "invalid_cursor" });
  });
});

describe("one person, one history", () => {
  it("+ab@x.com and +a-b@x.com are two mailboxes: an opt-out of one is not in the other's history", async () => {
    const local = `+ab${crypto.randomUUID().slice(0, 8)}`;
    expect((await publish({ type: "OPT_OUT", topic: "NEWS", identifier: `${local}@x.com` })).status).toBe(201);
    const other = await (await list(`${local.slice(0, 2)}-${local.slice(2)}@x.com`)).json<any>();
    expect(other.total).toBe(0);
    const same = await (await list(`${local.toUpperCase()}@X.COM`)).json<any>();
    expect(same.total).toBe(1);
    expect(same.events[0].identifier).toBe(`${local}@x.com`);
  });

  it("composed and decomposed spellings of one mailbox share its history", async () => {
    const local = `jos\u00e9-${crypto.randomUUID().slice(0, 8)}`;
    expect((await publish({ type: "OPT_IN", topic: "NEWS", identifier: `${local}@x.com` })).status).toBe(201);
    expect((await (await list(`${local.normalize("NFD")}@x.com`)).json<any>()).total).toBe(1);
  });
});
