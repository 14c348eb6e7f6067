import { describe, expect, it } from "vitest";
import type { FeedEntry } from "../../src/storage/event-record";
import { feedBatches } from "../../src/storage/feed/producer";

const entry = (sequence: number, meta: string | null): FeedEntry => ({
  organizationId: "org-acme",
  identifier: "someone@example.com",
  ledger: "0".repeat(64),
  sequence,
  type: "OPT_IN",
  topic: "T",
  source: null,
  meta,
  createdAt: "2026-01-01T00:00:00.000Z",
  occurredAt: null,
  identifierHash: "0".repeat(64),
  hash: "1".repeat(64),
  prevHash: null,
  commitments: "{}",
  proof: null,
});

describe("feedBatches", () => {
  it("keeps every entry, in order, in batches Queues accepts: at most 100 messages and 256 KB", () => {
    // Small entries fill batches of 100; entries with 32 KiB of meta (the most meta may be) split sooner.
    const entries = [
      ...Array.from({ length: 150 }, (_, i) => entry(i + 1, '{"n":1}')),
      ...Array.from({ length: 20 }, (_, i) => entry(151 + i, JSON.stringify({ note: "é".repeat(16_000) }))),
    ];
    const batches = feedBatches(entries);
    expect(batches.flat()).toEqual(entries);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(100);
      const bytes = batch.reduce((sum, e) => sum + new TextEncoder().encode(JSON.stringify(e)).length, 0);
      expect(bytes).toBeLessThan(256 * 1024);
    }
    expect(batches[0]).toHaveLength(100);
  });
});
