import { runLoad, type Target } from "./load";
import { cpuMsOf } from "./processes";
import type { TargetName } from "./servers";
import { percentile } from "./stats";

/**
 * The case matrix, interleaved to cut noise on a small shared machine: each round runs every case
 * once for a short slice, and the order of the targets rotates from round to round, so slow drift
 * (other processes, thermal, GC) lands on every target alike. Samples of all rounds are pooled; the
 * per-round medians are kept so differences can also be paired round by round.
 */

export type Mode = "buffered" | "streamed";

export interface CaseResult {
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

export interface MatrixOptions {
  targets: Record<TargetName, Target>;
  pids: Partial<Record<TargetName, number>>;
  order: TargetName[];
  modes: Mode[];
  concurrencies: number[];
  rounds: number;
  sliceMs: number;
  warmupMs: number;
  onSlice?: (result: CaseResult, round: number) => void;
}

const keyOf = (target: string, mode: Mode, c: number) => `${target}/${mode}/${c}`;

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function runMatrix(options: MatrixOptions): Promise<CaseResult[]> {
  const results = new Map<string, CaseResult>();
  for (let round = 0; round < options.rounds; round++) {
    for (const mode of options.modes) {
      for (const concurrency of options.concurrencies) {
        for (const target of rotate(options.order, round)) {
          const stream = mode === "streamed";
          const warm = await runLoad(options.targets[target], { concurrency, durationMs: options.warmupMs, stream, record: false });
          const pid = options.pids[target];
          const cpu0 = pid === undefined ? NaN : cpuMsOf(pid);
          const slice = await runLoad(options.targets[target], { concurrency, durationMs: options.sliceMs, stream });
          const cpu = pid === undefined ? NaN : cpuMsOf(pid) - cpu0;
          const key = keyOf(target, mode, concurrency);
          const acc = results.get(key) ?? {
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
          options.onSlice?.(acc, round);
        }
      }
    }
  }
  return [...results.values()];
}

export function findCase(results: CaseResult[], target: TargetName, mode: Mode, concurrency: number): CaseResult | undefined {
  return results.find((r) => r.target === target && r.mode === mode && r.concurrency === concurrency);
}
