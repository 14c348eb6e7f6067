import { readFileSync } from "node:fs";
import { expect, inject, it } from "vitest";
import { SEED_EVENT_REQUEST } from "../../src/consent-event";
import { e2eBasic } from "./settings";
import { crossRequestLines } from "../../scripts/worker-log.ts";

const base = inject("gatewayUrl");
const PUBLISHES = 1_100;
const IN_FLIGHT = 16;

it("takes a burst of concurrent publishes with no request awaiting another's promise", { timeout: 180_000 }, async () => {
  // The burst that showed it on main: in one isolate, requests overlap, and anything one of them
  // shares with another (a batch's promise, a pending key import) makes workerd complain.
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < PUBLISHES) {
        const identifier = `burst-${next++}-${crypto.randomUUID()}@example.com`;
        const response = await fetch(`${base}/v1/consent/publish`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: e2eBasic },
          body: JSON.stringify({ ...SEED_EVENT_REQUEST, identifier }),
        });
        await response.body?.cancel();
        statuses.push(response.status);
      }
    }),
  );
  expect(statuses.filter((s) => s !== 201)).toEqual([]);
  expect(statuses).toHaveLength(PUBLISHES);
  // The last batches leave in their requests' waitUntil, after the answers: give them time to.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(crossRequestLines(readFileSync(inject("gatewayLog"), "utf8"))).toEqual([]);
});
