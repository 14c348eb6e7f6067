// `npm run bench`: measures the gateway under `wrangler dev` and reports ratios taken in one run,
// so the numbers compare like with like on whatever machine runs it. Exits 1 if a target is missed.
import { performance } from "node:perf_hooks";
import { createHash } from "node:crypto";
import { startWranglerDev } from "./wrangler-dev.ts";

const CLIENT = { id: "bench", secret: "bench-secret" };
const auth = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString("base64")}`;
const dev = await startWranglerDev(() => ({
  API_CLIENTS: JSON.stringify([
    { id: CLIENT.id, secret_sha256: createHash("sha256").update(CLIENT.secret).digest("hex"), organization_id: "org-bench" },
  ]),
}));

const publish = (identifier: string, n: number) =>
  fetch(`${dev.baseUrl}/v1/consent/publish`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: auth },
    body: JSON.stringify({ type: n % 2 ? "OPT_OUT" : "OPT_IN", topic: "BENCH", identifier, meta: { n } }),
  }).then(async (r) => {
    if (r.status !== 201) throw new Error(`publish answered ${r.status}: ${await r.text()}`);
  });

const list = (identifier: string) =>
  fetch(`${dev.baseUrl}/v1/consent/${encodeURIComponent(identifier)}?limit=50`, { headers: { Authorization: auth } }).then((r) => r.json());

async function timed(label: string, work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  console.log(`  ${label}: ${ms.toFixed(0)} ms`);
  return ms;
}

/** Runs `count` tasks with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function listLatency(identifier: string, samples = 30) {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await list(identifier);
    times.push(performance.now() - start);
  }
  return median(times);
}

const results: { name: string; ratio: number; target: string; ok: boolean }[] = [];
try {
  const N = 400;
  console.log(`Publishing ${N} events, 50 in flight:`);
  await pool(50, 50, (i) => publish(`warmup-${i}@example.com`, i));
  const contended = await timed("all to one identifier", () => pool(N, 50, (i) => publish("hot@example.com", i)));
  const spread = await timed(`to ${N} identifiers`, () => pool(N, 50, (i) => publish(`person-${i}@example.com`, i)));
  // One identifier is one Durable Object, a single writer: its throughput bounds a hot identifier.
  const contention = spread / contended;
  results.push({ name: "throughput on one identifier / spread over many", ratio: contention, target: ">= 0.25", ok: contention >= 0.25 });

  console.log("Listing 50 events (median of 30):");
  await pool(10, 10, (i) => publish("small@example.com", i));
  const small = await listLatency("small@example.com");
  const large = await listLatency("hot@example.com");
  console.log(`  history of 10: ${small.toFixed(1)} ms, history of ${N}: ${large.toFixed(1)} ms`);
  // The page query walks the sequence index: its cost must not grow with the history.
  const growth = large / small;
  results.push({ name: `list latency, history ${N} / history 10`, ratio: growth, target: "<= 2", ok: growth <= 2 });
} finally {
  dev.stop();
}

console.log("\nratio                                                value   target  ");
for (const r of results) console.log(`${r.name.padEnd(52)} ${r.ratio.toFixed(2).padStart(6)}   ${r.target.padEnd(7)} ${r.ok ? "ok" : "MISSED"}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
