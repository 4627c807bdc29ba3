import { runLoad, type Target } from "./load";
import { cpuMsOf } from "./processes";
import type { Suite, TargetName } from "./servers";
import { percentile } from "./stats";
import type { Endpoint } from "./workload";

/**
 * The case matrix, interleaved to cut noise on a small shared machine: each round runs every case
 * once for a short slice, and the order of the targets rotates from round to round, so slow drift
 * (other processes, thermal, GC) lands on every target alike. Samples of all rounds are pooled; the
 * per-round medians are kept so differences can also be paired round by round. Each endpoint
 * (chat, messages, responses) is a suite of its own: its cases compare with its own direct and bare.
 */

export type Mode = "buffered" | "streamed";

export interface CaseResult {
  endpoint: Endpoint;
  target: TargetName;
  mode: Mode;
  concurrency: number;
  requests: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  latencies: number[];
  ttfts: number[];
  /** p50 latency (streamed: and TTFT) of each round, for paired comparisons. */
  roundP50: number[];
  roundTtftP50: number[];
  /** CPU the gateway process used during the measured slices (NaN for direct). */
  cpuMs: number;
  /** Successful requests of the unmeasured warm-up slices (for the metering check). */
  warmupRequests: number;
}

export interface MatrixSuite extends Suite {
  /** Concurrencies run for this endpoint. */
  concurrencies: number[];
}

export interface MatrixOptions {
  suites: MatrixSuite[];
  pids: Partial<Record<TargetName, number>>;
  /** Targets in this order (rotated every round); those a suite lacks are skipped. */
  order: TargetName[];
  modes: Mode[];
  rounds: number;
  sliceMs: number;
  warmupMs: number;
  onSlice?: (result: CaseResult, round: number) => void;
}

const keyOf = (endpoint: Endpoint, target: string, mode: Mode, c: number) => `${endpoint}/${target}/${mode}/${c}`;

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function runMatrix(options: MatrixOptions): Promise<CaseResult[]> {
  const results = new Map<string, CaseResult>();
  for (let round = 0; round < options.rounds; round++) {
    for (const { endpoint, targets, concurrencies } of options.suites) {
      for (const mode of options.modes) {
        for (const concurrency of concurrencies) {
          for (const target of rotate(options.order, round)) {
            const t = targets[target];
            if (!t) continue;
            await runCase(results, { endpoint, target, mode, concurrency, round }, t, options);
          }
        }
      }
    }
  }
  return [...results.values()];
}

interface CaseId {
  endpoint: Endpoint;
  target: TargetName;
  mode: Mode;
  concurrency: number;
  round: number;
}

/** One slice of one case (after its unmeasured warm-up), pooled into that case's results. */
async function runCase(results: Map<string, CaseResult>, id: CaseId, t: Target, options: MatrixOptions): Promise<void> {
  const { endpoint, target, mode, concurrency } = id;
  const stream = mode === "streamed";
  const warm = await runLoad(t, { concurrency, durationMs: options.warmupMs, stream, record: false });
  const pid = options.pids[target];
  const cpu0 = pid === undefined ? NaN : cpuMsOf(pid);
  const slice = await runLoad(t, { concurrency, durationMs: options.sliceMs, stream });
  const cpu = pid === undefined ? NaN : cpuMsOf(pid) - cpu0;
  const key = keyOf(endpoint, target, mode, concurrency);
  const acc = results.get(key) ?? {
    endpoint,
    target,
    mode,
    concurrency,
    requests: 0,
    errors: 0,
    firstError: null,
    elapsedMs: 0,
    latencies: [],
    ttfts: [],
    roundP50: [],
    roundTtftP50: [],
    cpuMs: 0,
    warmupRequests: 0,
  };
  acc.warmupRequests += warm.count;
  acc.requests += slice.count;
  acc.errors += slice.errors;
  acc.firstError ??= slice.firstError;
  acc.elapsedMs += slice.elapsedMs;
  for (const v of slice.latencies) acc.latencies.push(v);
  for (const v of slice.ttfts) acc.ttfts.push(v);
  acc.roundP50.push(percentile(slice.latencies, 50));
  if (stream) acc.roundTtftP50.push(percentile(slice.ttfts, 50));
  acc.cpuMs += cpu;
  results.set(key, acc);
  options.onSlice?.(acc, id.round);
}

export function findCase(results: CaseResult[], endpoint: Endpoint, target: TargetName, mode: Mode, concurrency: number): CaseResult | undefined {
  return results.find((r) => r.endpoint === endpoint && r.target === target && r.mode === mode && r.concurrency === concurrency);
}
