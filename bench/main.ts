import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { budgetMeteringChecks, budgetRows, caseRows, checks, meteringChecks, ratios } from "./analysis";
import { measureCeiling, PROBE_SCRIPT } from "./ceiling";
import { closePools, haltLoad } from "./load";
import { runMatrix, type CaseResult, type Mode } from "./matrix";
import { memoryGrowth, MemorySampler, type GrowthResult } from "./memory";
import { cleanupAll, cpuMsOf, machineBusyMs } from "./processes";
import { previousGrowth, writeResults, type Meta, type Results } from "./report";
import { startStack, type Stack, type TargetName } from "./servers";
import type { Endpoint } from "./workload";

/**
 * `npm run bench`: mock upstream, bare forwarder, KeyForge and Portkey on loopback; the case matrix
 * (chat: direct / bare / keyforge / keyforge-budget / portkey × c=1, c=32 × buffered, streamed;
 * /v1/messages and /v1/responses: direct / bare / keyforge × c=1 × buffered, streamed), the
 * per-key DO ceiling, and gateway memory; then bench/RESULTS.md and bench/results.json. Everything
 * started is stopped at the end, on failure and on Ctrl-C.
 *   --quick   ~1 minute (2 short rounds)
 *   --memory  also 100k requests through the bare forwarder and through KeyForge (RSS growth, ~14 min)
 *   --disk    keep KeyForge's SQLite files on disk instead of tmpfs (adds this machine's fsync latency
 *             to every Durable Object write; production storage is replicated, not a local fsync)
 */

const PROFILES = {
  default: { rounds: 4, sliceMs: 3_000, warmupMs: 300, ceilingMs: 3_000 },
  quick: { rounds: 2, sliceMs: 1_200, warmupMs: 200, ceilingMs: 1_000 },
};
const UPSTREAM = { latencyMs: 20, gapMs: 2, chunks: 9 };
/**
 * `keyforge-budget` (chat only: issue 16) is the bench key's twin in a shared budget: one extra
 * Durable Object call in admit (on the request's path) and one in settle. c=1 shows its latency;
 * c=32 its cost in throughput, where every request also queues on the budget's single object.
 */
const ORDER: TargetName[] = ["direct", "bare", "keyforge", "keyforge-budget", "portkey"];
const MODES: Mode[] = ["buffered", "streamed"];
const CONCURRENCIES = [1, 32];
/**
 * Concurrencies per endpoint. Messages and Responses share chat's admission, metering and audit
 * (src/proxy/gateway-call.ts), so c=32 would mostly re-measure the same Durable Object work; at c=1
 * they show what their own parsing and framing add (TTFT above all) without doubling the run time.
 */
const ENDPOINTS: Array<{ endpoint: Endpoint; concurrencies: number[] }> = [
  { endpoint: "chat", concurrencies: CONCURRENCIES },
  { endpoint: "messages", concurrencies: [1] },
  { endpoint: "responses", concurrencies: [1] },
];
const MEMORY_MILESTONES = [10_000, 25_000, 50_000, 75_000, 100_000];

const args = new Set(process.argv.slice(2));
if (args.has("--help")) {
  console.log("npm run bench [-- --quick] [--memory] [--disk]");
  process.exit(0);
}
const quick = args.has("--quick");
const withMemory = args.has("--memory");
const storageDir = !args.has("--disk") && existsSync("/dev/shm") ? `/dev/shm/keyforge-bench-${process.pid}` : undefined;
const profile = PROFILES[quick ? "quick" : "default"];
const benchDir = join(process.cwd(), "bench");
/** Where bench/run.mjs put the bundles (this file's own directory once bundled). */
const buildDir = dirname(fileURLToPath(import.meta.url));

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join("node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

function commit(): string {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${sha} + working-tree changes` : sha;
  } catch {
    return "unknown";
  }
}

function printSlice(r: CaseResult, round: number): void {
  const last = r.roundP50.at(-1)!;
  const ttft = r.roundTtftP50.at(-1);
  console.log(
    `  round ${round + 1} ${r.endpoint.padEnd(9)} ${r.mode.padEnd(8)} c=${String(r.concurrency).padEnd(2)} ${r.target.padEnd(8)} p50 ${last.toFixed(2).padStart(7)} ms` +
      `${ttft === undefined ? "" : `  ttft ${ttft.toFixed(2)} ms`}${r.errors ? `  errors ${r.errors}` : ""}`,
  );
}

/** Cores used by everything except the bench's own processes, averaged over a window. */
function backgroundMeter(stack: Stack): () => number {
  // A Set: the budget case shares KeyForge's pid.
  const ours = () =>
    [...new Set([stack.upstreamPid, ...Object.values(stack.pids)])].reduce((sum, pid) => sum + cpuMsOf(pid), 0) +
    (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  const busy0 = machineBusyMs();
  const ours0 = ours();
  const t0 = Date.now();
  return () => Math.round(((machineBusyMs() - busy0 - (ours() - ours0)) / (Date.now() - t0)) * 100) / 100;
}

/** Every KeyForge request of the matrix (warm-ups included) must have been settled by its KeyGuard, on every endpoint. */
async function meteringCheck(stack: Stack, results: CaseResult[]): Promise<Meta["metering"]> {
  await new Promise((r) => setTimeout(r, 2_000)); // settles run after the response (waitUntil)
  const byEndpoint: Record<string, { sent: number; metered: number }> = {};
  for (const { endpoint } of ENDPOINTS) {
    const sent = results.filter((r) => r.endpoint === endpoint && r.target === "keyforge").reduce((n, r) => n + r.requests + r.warmupRequests, 0);
    byEndpoint[endpoint] = { sent, metered: await stack.meteredRequests(endpoint) };
  }
  const all = Object.values(byEndpoint);
  const sent = all.reduce((n, e) => n + e.sent, 0);
  const metered = all.reduce((n, e) => n + e.metered, 0);
  const detail = Object.entries(byEndpoint).map(([endpoint, e]) => `${endpoint} ${e.metered}/${e.sent}`);
  console.log(`bench: KeyGuards metered ${metered} of ${sent} KeyForge requests (${detail.join(", ")})`);
  // The budget member: every request charged on its own KeyGuard and on the budget's BudgetGuard.
  const budgetSent = results.filter((r) => r.target === "keyforge-budget").reduce((n, r) => n + r.requests + r.warmupRequests, 0);
  const budget = { sent: budgetSent, ...(await stack.budgetMetering()) };
  console.log(`bench: key in a shared budget: ${budget.key} of ${budget.sent} charged on the key, ${budget.budget} on the budget`);
  return { sent, metered, byEndpoint, budget };
}

async function run(): Promise<void> {
  const started = Date.now();
  console.log(`bench: ${quick ? "quick" : "default"} profile${withMemory ? " + memory" : ""}; starting servers…`);
  const stack = await startStack({ buildDir, storageDir, ...UPSTREAM, probeScript: PROBE_SCRIPT });
  ownSignals();
  const sampler = new MemorySampler({ bare: stack.pids.bare!, keyforge: stack.pids.keyforge!, portkey: stack.pids.portkey! });
  const background = backgroundMeter(stack);
  const results = await runMatrix({
    suites: ENDPOINTS.map(({ endpoint, concurrencies }) => ({ ...stack.suites.find((s) => s.endpoint === endpoint)!, concurrencies })),
    pids: stack.pids,
    order: ORDER,
    modes: MODES,
    onSlice: printSlice,
    ...profile,
  });
  // The peak while every target ran the same cases; the ceiling phase below loads KeyForge alone.
  const afterMatrix = sampler.sample();
  const backgroundCores = background();
  const metering = await meteringCheck(stack, results);
  console.log("bench: per-key Durable Object ceiling…");
  const ceiling = await measureCeiling(stack.keyforge.mf, stack.targets.keyforge, stack.createKey, profile.ceilingMs);
  let growth: GrowthResult[] | null = null;
  if (withMemory) {
    growth = [];
    for (const target of ["bare", "keyforge"] as const) {
      console.log(`bench: memory growth of ${target} over ${MEMORY_MILESTONES.at(-1)} requests…`);
      growth.push(await memoryGrowth(stack.targets[target], stack.pids[target]!, MEMORY_MILESTONES, 32, console.log));
    }
  }
  const processes = sampler.stop();
  const previous = growth ? null : previousGrowth(join(benchDir, "results.json"));

  const rows = caseRows(results);
  const meta: Meta = {
    date: new Date().toISOString(),
    commit: commit(),
    profile: quick ? "quick" : "default",
    node: process.version,
    cpus: cpus().length,
    versions: { workerd: versionOf("workerd"), miniflare: versionOf("miniflare"), portkey: versionOf("@portkey-ai/gateway") },
    rounds: profile.rounds,
    sliceMs: profile.sliceMs,
    upstream: { ...UPSTREAM, frames: stack.upstreamFrames },
    storage: storageDir ? "tmpfs" : "disk",
    backgroundCores,
    metering,
    durationS: Math.round((Date.now() - started) / 1000),
  };
  const out: Results = {
    meta,
    cases: rows,
    ratios: ratios(
      rows,
      ENDPOINTS.map((e) => e.endpoint),
      MODES,
      CONCURRENCIES,
    ),
    budget: budgetRows(results, rows, MODES, CONCURRENCIES),
    checks: [
      ...checks(
        results,
        rows,
        ENDPOINTS.map((e) => e.endpoint),
        MODES,
        1,
        32,
      ),
      ...meteringChecks(metering.byEndpoint ?? {}),
      ...(metering.budget ? budgetMeteringChecks(metering.budget) : []),
    ],
    ceiling,
    memory: { processes, afterMatrix, growth: growth ?? previous?.growth ?? null, ...(previous ? { growthFrom: previous.from } : {}) },
  };
  writeResults(benchDir, out);
  for (const c of out.checks) console.log(`  ${c.met ? "met   " : "MISSED"} ${c.name}: ${c.value} ${c.unit} (target ${c.target})`);
  console.log(`bench: wrote bench/RESULTS.md and bench/results.json in ${meta.durationS} s`);
}

let stopping: Promise<void> | null = null;
/** Stops the load, then everything started (once, however many times it is called), then exits. */
async function stop(code: number): Promise<never> {
  stopping ??= (async () => {
    haltLoad();
    // Whatever happens, exit within 20 s (the exit hook then kills any child still running).
    setTimeout(() => process.exit(code), 20_000).unref();
    await closePools();
    await cleanupAll();
  })();
  await stopping;
  process.exit(code);
}
const onSigint = () => void stop(130);
const onSigterm = () => void stop(143);
process.on("SIGINT", onSigint);
process.on("SIGTERM", onSigterm);

/** Miniflare's own exit hook calls process.exit() on Ctrl-C, before our asynchronous cleanup can run. */
function ownSignals(): void {
  for (const [signal, mine] of [
    ["SIGINT", onSigint],
    ["SIGTERM", onSigterm],
  ] as const) {
    for (const listener of process.listeners(signal)) if (listener !== mine) process.removeListener(signal, listener);
  }
}

try {
  await run();
  await stop(0);
} catch (err) {
  console.error("bench failed:", err);
  await stop(1);
}
