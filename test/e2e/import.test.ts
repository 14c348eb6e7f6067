import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, inject, it, vi } from "vitest";
import { e2eBasic } from "./settings";

const base = inject("gatewayUrl");
const scratch = mkdtempSync(path.join(tmpdir(), "consent-gateway-import-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const post = (body: string) =>
  fetch(`${base}/v1/consent/import`, { method: "POST", headers: { "Content-Type": "application/x-ndjson", Authorization: e2eBasic }, body });

it("imports an NDJSON file over real HTTP on wrangler dev: stored, then all duplicates, in occurred_at order, and into the feed", async () => {
  const run = crypto.randomUUID();
  const topic = `IMPORT-E2E-${run}`;
  const identifier = `e2e-import-${run}@example.com`;
  const file = path.join(scratch, "export.ndjson");
  const events = [
    { event_id: `${run}-2`, type: "OPT_OUT", topic, identifier, occurred_at: "2024-06-02T08:00:00Z" },
    { event_id: `${run}-1`, type: "OPT_IN", topic, identifier, source: "old-crm", meta: { list: "weekly" }, occurred_at: "2024-06-01T10:00:00+02:00" },
    { event_id: `${run}-3`, type: "MAYBE", topic, identifier, occurred_at: "2024-06-03T08:00:00Z" },
  ];
  writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join("\n")}\n{not json}\n`);

  const first = await post(readFileSync(file, "utf8"));
  expect(first.status).toBe(200);
  const answer = (await first.json()) as any;
  expect(answer).toMatchObject({ stored: 2, duplicates: 0, refused: 2 });
  expect(answer.results.map((r: any) => [r.line, r.status, r.seq, r.errors?.[0]?.code])).toEqual([
    [1, "stored", 2, undefined],
    [2, "stored", 1, undefined],
    [3, "refused", undefined, "invalid_value"],
    [4, "refused", undefined, "malformed_json"],
  ]);

  const again = (await (await post(readFileSync(file, "utf8"))).json()) as any;
  expect(again).toMatchObject({ stored: 0, duplicates: 2, refused: 2 });

  const listed = (await (await fetch(`${base}/v1/consent/${encodeURIComponent(identifier)}`, { headers: { Authorization: e2eBasic } })).json()) as any;
  expect(listed.events.map((e: any) => [e.seq, e.type, e.occurred_at])).toEqual([
    [2, "OPT_OUT", "2024-06-02T08:00:00Z"],
    [1, "OPT_IN", "2024-06-01T10:00:00+02:00"],
  ]);

  await vi.waitFor(
    async () => {
      const feed = (await (await fetch(`${base}/v1/events?topic=${topic}`, { headers: { Authorization: e2eBasic } })).json()) as any;
      expect(feed.events.map((e: any) => e.seq).sort()).toEqual([1, 2]);
    },
    { timeout: 15_000, interval: 250 },
  );

  const tooMany = await post(`${JSON.stringify(events[0])}\n`.repeat(1001));
  expect(tooMany.status).toBe(413);
  expect(tooMany.headers.get("content-type")).toBe("application/problem+json");
});
