import { runLoad, type Target } from "./load";
import { memoryOf } from "./processes";

/**
 * Gateway memory: workerd (or Node, for Portkey) resident set from /proc/<pid>/status. A sampler
 * tracks RSS through the whole run (VmHWM gives the kernel's exact peak); the `--memory` mode then
 * drives 100k requests through the bare forwarder and through KeyForge and compares RSS after 10k
 * with RSS after 100k: growth KeyForge shows beyond the bare forwarder's is KeyForge's own.
 */

export interface ProcessMemory {
  /** RSS when sampling started (servers up, nothing measured yet). */
  startMiB: number;
  /** Kernel high-water mark (VmHWM) at the end: the true peak RSS. */
  peakMiB: number;
  endMiB: number;
}

export class MemorySampler {
  private readonly start = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: Record<string, number>) {
    for (const [name, pid] of Object.entries(pids)) this.start.set(name, memoryOf(pid)?.rssMiB ?? NaN);
    // VmHWM is exact; sampling only keeps the processes' /proc entries read while they run.
    this.timer = setInterval(() => this.sample(), 1_000);
    this.timer.unref();
  }

  /** Start, peak so far and current RSS of each process, without stopping the sampler. */
  sample(): Record<string, ProcessMemory> {
    const out: Record<string, ProcessMemory> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const m = memoryOf(pid);
      out[name] = { startMiB: this.start.get(name) ?? NaN, peakMiB: m?.hwmMiB ?? NaN, endMiB: m?.rssMiB ?? NaN };
    }
    return out;
  }

  stop(): Record<string, ProcessMemory> {
    clearInterval(this.timer);
    return this.sample();
  }
}

export interface GrowthPoint {
  requests: number;
  rssMiB: number;
  /** The anonymous part of RSS (heaps, allocator), where a leak would show. */
  anonMiB: number;
}

export interface GrowthResult {
  target: string;
  concurrency: number;
  points: GrowthPoint[];
  peakMiB: number;
  /** RSS after the last milestone minus RSS after the first, in MiB and per cent. */
  growthMiB: number;
  growthPct: number;
  errors: number;
  elapsedMs: number;
}

const settle = () => new Promise((r) => setTimeout(r, 1_000));

/** Buffered and streamed in alternating batches until each milestone; RSS read 1 s after each. */
export async function memoryGrowth(target: Target, pid: number, milestones: number[], concurrency = 32, log?: (s: string) => void): Promise<GrowthResult> {
  const started = Date.now();
  const points: GrowthPoint[] = [];
  let done = 0;
  let errors = 0;
  const BATCH = 5_000;
  for (const milestone of milestones) {
    while (done < milestone) {
      const stream = Math.floor(done / BATCH) % 2 === 1;
      const r = await runLoad(target, { concurrency, durationMs: Infinity, maxRequests: Math.min(BATCH, milestone - done), stream, record: false });
      done += r.count + r.errors;
      errors += r.errors;
    }
    await settle();
    const m = memoryOf(pid);
    points.push({ requests: done, rssMiB: m?.rssMiB ?? NaN, anonMiB: m?.anonMiB ?? NaN });
    log?.(`memory: ${done} requests, RSS ${points.at(-1)!.rssMiB.toFixed(1)} MiB`);
  }
  const first = points[0]!.rssMiB;
  const last = points.at(-1)!.rssMiB;
  return {
    target: target.name,
    concurrency,
    points,
    peakMiB: memoryOf(pid)?.hwmMiB ?? NaN,
    growthMiB: last - first,
    growthPct: ((last - first) / first) * 100,
    errors,
    elapsedMs: Date.now() - started,
  };
}
