import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { basic, call, postJson, publish, uniqueEmail } from "../helpers/gateway";
import { fedRows } from "../helpers/ledger";

const FED = { timeout: 10_000 };

const audience = async (query: string, authorization = basic("acme")) => {
  const response = await call(`/v1/consent${query}`, { headers: { Authorization: authorization } });
  expect(response.status).toBe(200);
  return response.json<any>();
};

/** Every page of an audience, as a mailer reads it. */
async function everyone(query: string) {
  const seen: { identifier: string; since: string }[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await audience(`${query}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    seen.push(...page.identifiers);
    if (!page.has_more) return seen;
    cursor = page.next_cursor;
  }
}

describe("GET /v1/consent?topic&status (listAudience)", () => {
  it("once the consumer ran, each status's audience is what each identifier's history says", async () => {
    const topic = `AUDIENCE-${crypto.randomUUID()}`;
    const people = Array.from({ length: 6 }, (_, i) => uniqueEmail(`aud${i}`));
    const plans: (() => Promise<unknown>)[][] = [
      [() => publish({ type: "OPT_IN", topic, identifier: people[0] })],
      [() => publish({ type: "OPT_IN", topic, identifier: people[1] }), () => publish({ type: "OPT_OUT", topic, identifier: people[1] })],
      [() => postJson("/v1/consent/double-opt-in", { topic, identifier: people[2] })],
      [() => publish({ type: "OPT_OUT", topic, identifier: people[3] }), () => postJson("/v1/consent/double-opt-in", { topic, identifier: people[3] })],
      [() => publish({ type: "OPT_IN", topic, identifier: people[4] }), () => postJson("/v1/consent/double-opt-in", { topic, identifier: people[4] })],
      [() => publish({ type: "OPT_OUT", topic, identifier: people[5] }), () => publish({ type: "OPT_IN", topic, identifier: people[5] })],
    ];
    for (const plan of plans) for (const step of plan) await step();
    // Another organization's event on the same topic is in no audience of this one.
    expect((await publish({ type: "OPT_IN", topic, identifier: uniqueEmail("globex") }, basic("globex"))).status).toBe(201);
    for (const [i, identifier] of people.entries()) await vi.waitFor(async () => expect(await fedRows("org-acme", identifier)).toHaveLength(plans[i]!.length), FED);

    for (const status of ["granted", "pending", "withdrawn"]) {
      const expected: string[] = [];
      for (const identifier of people) {
        const state = await (await call(`/v1/consent/${identifier}/state?topic=${topic}`, { headers: { Authorization: basic("acme") } })).json<any>();
        if (state.topics[0].status === status) expected.push(identifier);
      }
      const listed = await everyone(`?topic=${topic}&status=${status}`);
      expect(listed.map((e) => e.identifier), status).toEqual(expected.sort());
    }
    expect((await everyone(`?topic=${topic}`)).map((e) => e.identifier)).toEqual([people[0], people[4], people[5]].sort());
  });

  it("a grant past its topic's lifespan is not granted", async () => {
    const identifier = uniqueEmail("aged");
    expect((await publish({ type: "OPT_IN", topic: "LIMITED", identifier })).status).toBe(201);
    await vi.waitFor(async () => expect(await fedRows("org-acme", identifier)).toHaveLength(1), FED);
    const listed = async () => (await everyone("?topic=LIMITED&status=granted")).map((e) => e.identifier);
    expect(await listed()).toContain(identifier);
    // As if the grant was given 31 days ago (LIMITED's grants live 30, test/fixtures/credentials.ts).
    await env.DB.prepare("UPDATE consent_topics SET decision_at = ? WHERE organization_id = 'org-acme' AND identifier = ?")
      .bind(new Date(Date.now() - 31 * 86_400_000).toISOString(), identifier)
      .run();
    expect(await listed()).not.toContain(identifier);
  });

  it.each([["?status=granted"], ["?topic=T&status=expired"], ["?topic=T&cursor=bm9wZQ"], ["?topic=T&limit=0"]])("refuses %s with a 400", async (query) => {
    const response = await call(`/v1/consent${query}`, { headers: { Authorization: basic("acme") } });
    expect(response.status).toBe(400);
  });
});
