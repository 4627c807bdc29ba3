import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { type Endpoint, FIRST_TOKEN, requestBody } from "./workload";

/**
 * A closed-loop load client: `concurrency` workers, each sending the next request as soon as the
 * previous one has been read to the end. Latency is measured per request with a sub-microsecond
 * clock; for streams, time to first token (TTFT) is the arrival of the first frame carrying text
 * (bench/workload.ts: FIRST_TOKEN, per wire format). (autocannon records whole milliseconds and has no notion of TTFT, which
 * is too coarse for a 1 ms budget, hence this client; undici keeps the connections alive.)
 */

export interface Target {
  name: string;
  /** Which request it is sent (bench/workload.ts) and how its first token is recognised. */
  endpoint: Endpoint;
  origin: string;
  path: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  /** Successful requests. */
  count: number;
  latencies: number[];
  ttfts: number[];
  errors: number;
  firstError: string | null;
  elapsedMs: number;
}

const pools = new Map<string, Pool>();
let halted = false;

/** Stops every running load loop after its current request (on Ctrl-C, before the servers go). */
export function haltLoad(): void {
  halted = true;
}

function poolFor(target: Target, connections: number): Pool {
  const key = `${target.origin}#${connections}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 4_000 });
    pools.set(key, pool);
  }
  return pool;
}

export async function closePools(): Promise<void> {
  await Promise.all([...pools.values()].map((p) => p.destroy().catch(() => undefined)));
  pools.clear();
}

interface One {
  latency: number;
  ttft: number | null;
  error: string | null;
}

async function once(pool: Pool, target: Target, body: string, stream: boolean): Promise<One> {
  const start = performance.now();
  try {
    const res = await pool.request({ method: "POST", path: target.path, headers: target.headers, body });
    const firstToken = FIRST_TOKEN[target.endpoint];
    let ttft: number | null = null;
    let seen = "";
    for await (const chunk of res.body) {
      if (stream && ttft === null) {
        seen += (chunk as Buffer).toString("utf8");
        if (firstToken.test(seen)) ttft = performance.now() - start;
      }
    }
    const latency = performance.now() - start;
    if (res.statusCode !== 200) return { latency, ttft, error: `HTTP ${res.statusCode}` };
    if (stream && ttft === null) return { latency, ttft, error: "stream without a content chunk" };
    return { latency, ttft, error: null };
  } catch (err) {
    return { latency: performance.now() - start, ttft: null, error: String(err) };
  }
}

export interface LoadOptions {
  concurrency: number;
  /** Stop after this long… */
  durationMs: number;
  /** …or after this many requests, whichever comes first. */
  maxRequests?: number;
  stream: boolean;
  /** Keep per-request samples (off for the long memory runs). */
  record?: boolean;
  /** Override the target's headers (e.g. a different virtual key per worker). */
  headersFor?: (worker: number) => Record<string, string>;
}

export async function runLoad(target: Target, options: LoadOptions): Promise<LoadResult> {
  const pool = poolFor(target, options.concurrency);
  const body = requestBody(target.endpoint, options.stream);
  const result: LoadResult = { count: 0, latencies: [], ttfts: [], errors: 0, firstError: null, elapsedMs: 0 };
  const record = options.record ?? true;
  const start = performance.now();
  const deadline = start + options.durationMs;
  let issued = 0;
  const worker = async (index: number) => {
    const t = options.headersFor ? { ...target, headers: options.headersFor(index) } : target;
    while (!halted && performance.now() < deadline && issued < (options.maxRequests ?? Infinity)) {
      issued += 1;
      const one = await once(pool, t, body, options.stream);
      if (one.error !== null) {
        result.errors += 1;
        result.firstError ??= one.error;
        continue;
      }
      result.count += 1;
      if (!record) continue;
      result.latencies.push(one.latency);
      if (one.ttft !== null) result.ttfts.push(one.ttft);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  result.elapsedMs = performance.now() - start;
  return result;
}
