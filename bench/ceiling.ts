import type { Miniflare } from "miniflare";
import { runLoad, type Target } from "./load";
import { percentile } from "./stats";

/**
 * The per-key Durable Object ceiling: how many requests one virtual key sustains. Two views:
 * (1) a bench-only probe Worker, bound to the KeyGuard class, calls admit() + settle() back to back
 *     on one key vs spread over many keys: the KeyGuard's own cost without HTTP or upstream;
 * (2) the whole gateway at high concurrency, all requests on ONE key vs each client on its own key.
 * Locally every DO shares workerd's one thread with the Worker, so (1) is a lower bound for one
 * object; on Cloudflare each object has a thread of its own and different keys run in parallel.
 */

export const PROBE_SCRIPT = `
const PRICE = { input: 150000, cachedInput: 75000, cacheWrite: 150000, output: 600000 };
const keyId = (i) => "probe" + String(i).padStart(11, "0");
function record(id, now) {
  return { id, name: id, secretHash: "probe", last4: "0000", models: [], monthlyTokenQuota: 1e15, spendCapMicros: 1e15,
    rpm: 1e7, tpm: 1e12, expiresAt: null, metadata: {}, revokedAt: null, createdAt: now, updatedAt: now };
}
export default {
  async fetch(request, env) {
    const { keys, concurrency, durationMs } = await request.json();
    const ids = Array.from({ length: keys }, (_, i) => keyId(i));
    for (const id of ids) await env.KEY_GUARD.getByName(id).configure(record(id, Date.now()));
    let pairs = 0;
    let seq = 0;
    const start = Date.now();
    const worker = async (w) => {
      for (let n = w; Date.now() - start < durationMs; n += concurrency) {
        const id = ids[n % ids.length];
        const stub = env.KEY_GUARD.getByName(id);
        const requestId = "req_probe" + (seq++);
        const a = await stub.admit({ keyId: id, requestId, secretHash: "probe", model: "openai/gpt-4o-mini", provider: "openai",
          modelNames: ["gpt-4o-mini", "openai/gpt-4o-mini"], promptTokens: 20, maxTokens: 64, modelMaxTokens: null, price: PRICE, stream: false });
        if (!a.ok) throw new Error("admit denied: " + a.code);
        await stub.settle({ requestId, status: 200, promptTokens: 20, completionTokens: 10, costMicros: 10, latencyMs: 20 });
        pairs++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    return Response.json({ pairs, elapsedMs: Date.now() - start });
  },
};
`;

export interface ProbeRun {
  keys: number;
  concurrency: number;
  /** admit + settle pairs per second (one pair = one request's DO work). */
  pairsPerSec: number;
}

export interface GatewayKeysRun {
  keys: number;
  concurrency: number;
  rps: number;
  p50: number;
}

export interface CeilingResult {
  probe: ProbeRun[];
  gateway: GatewayKeysRun[];
}

async function probe(mf: Miniflare, keys: number, concurrency: number, durationMs: number): Promise<ProbeRun> {
  const worker = await mf.getWorker("probe");
  const res = await worker.fetch("http://probe/", { method: "POST", body: JSON.stringify({ keys, concurrency, durationMs }) });
  if (!res.ok) throw new Error(`probe: HTTP ${res.status} ${await res.text()}`);
  const { pairs, elapsedMs } = (await res.json()) as { pairs: number; elapsedMs: number };
  return { keys, concurrency, pairsPerSec: (pairs / elapsedMs) * 1000 };
}

export async function measureCeiling(
  mf: Miniflare,
  keyforge: Target,
  createKey: (name: string) => Promise<string>,
  durationMs: number,
  concurrency = 64,
): Promise<CeilingResult> {
  const probes: ProbeRun[] = [];
  for (const [keys, c] of [
    [1, 1],
    [1, concurrency],
    [concurrency, concurrency],
  ] as const) {
    await probe(mf, keys, c, Math.min(500, durationMs)); // warm (and configure the keys)
    probes.push(await probe(mf, keys, c, durationMs));
  }
  const tokens = await Promise.all(Array.from({ length: concurrency }, (_, i) => createKey(`ceiling-${i}`)));
  const gateway: GatewayKeysRun[] = [];
  for (const spread of [false, true]) {
    const headersFor = (w: number) => (spread ? { ...keyforge.headers, authorization: `Bearer ${tokens[w]}` } : keyforge.headers);
    await runLoad(keyforge, { concurrency, durationMs: 1_000, stream: false, record: false, headersFor });
    const r = await runLoad(keyforge, { concurrency, durationMs, stream: false, headersFor });
    gateway.push({ keys: spread ? concurrency : 1, concurrency, rps: (r.count / r.elapsedMs) * 1000, p50: percentile(r.latencies, 50) });
  }
  return { probe: probes, gateway };
}
