import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { closePools, runLoad } from "./load";
import { cleanupAll, cpuMsOf } from "./processes";
import { startStack, type Stack, type Suite } from "./servers";
import type { Endpoint } from "./workload";

/**
 * `npm run bench:profile [-- --stream] [-- --c=32] [-- --endpoint=messages] [-- --seconds=8] [-- --cpu=4]`:
 * not a measurement (the inspector slows what it watches), a map: V8's sampling CPU profile of
 * KeyForge's isolate (the Worker and, locally, its Durable Objects) under the bench's load, self time
 * per function and per file, to find what to cut on the hot path. First, with the profiler not yet
 * attached, the CPU time of KeyForge's and the bare forwarder's processes per request and their p50
 * in `--cpu` alternating rounds of 2 s: a quick A/B of one case between two builds (the full bench has every case). `--seconds=0` stops there.
 */

const args = new Map<string, string | undefined>(
  process.argv.slice(2).map((a) => {
    const [name, value] = a.replace(/^--/, "").split("=");
    return [name!, value];
  }),
);
const stream = args.has("stream");
const concurrency = Number(args.get("c") ?? 1);
const endpoint = (args.get("endpoint") ?? "chat") as Endpoint;
const seconds = Number(args.get("seconds") ?? 8);
const cpuRounds = Number(args.get("cpu") ?? 4);
const INSPECTOR_PORT = 9329;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

async function inspector(): Promise<(method: string, params?: object) => Promise<Record<string, unknown>>> {
  const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json()) as Array<{ title?: string; webSocketDebuggerUrl: string }>;
  const target = targets.find((t) => t.title?.includes("keyforge")) ?? targets[0]!;
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let next = 0;
  const waiting = new Map<number, (r: Record<string, unknown>) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown> };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result ?? {});
  });
  return (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
}

function nameOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"} ${url.split("/").pop() || "(native)"}:${lineNumber + 1}`;
}

function report(nodes: ProfileNode[], intervalUs: number): void {
  const total = nodes.reduce((n, node) => n + node.hitCount, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of nodes) {
    const file = node.callFrame.url.split("/").pop() || "(native)";
    const fn = nameOf(node);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.hitCount);
    byFile.set(file, (byFile.get(file) ?? 0) + node.hitCount);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join("\n");
  // Inclusive: a function's own samples and its callees', counted once per stack however deep it recurses.
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const inclusive = new Map<string, number>();
  const visit = (node: ProfileNode, onStack: Set<string>) => {
    const name = nameOf(node);
    const fresh = !onStack.has(name);
    if (fresh) onStack.add(name);
    for (const stackName of onStack) inclusive.set(stackName, (inclusive.get(stackName) ?? 0) + node.hitCount);
    for (const child of node.children ?? []) visit(byId.get(child)!, onStack);
    if (fresh) onStack.delete(name);
  };
  visit(nodes[0]!, new Set());
  const own = new Map([...inclusive].filter(([name]) => name.includes("keyforge.mjs")));
  console.log(
    `${total} samples at ${intervalUs} µs\n\nself time by function:\n${top(byFunction, 45)}\n\nby file:\n${top(byFile, 10)}\n\ninclusive time, KeyForge's functions:\n${top(own, 40)}`,
  );
}

/** Process CPU per request and p50 of KeyForge and the bare forwarder, alternating rounds of 2 s, no inspector attached. */
async function cpuPerRequest(stack: Stack, suite: Suite): Promise<void> {
  const names = ["bare", "keyforge"] as const;
  const totals = new Map(names.map((n) => [n, { cpuMs: 0, requests: 0, p50s: [] as number[] }]));
  for (let round = 0; round < cpuRounds; round++) {
    for (const name of names) {
      const pid = stack.pids[name]!;
      const cpu0 = cpuMsOf(pid);
      const load = await runLoad(suite.targets[name]!, { concurrency, durationMs: 2_000, stream });
      const total = totals.get(name)!;
      total.cpuMs += cpuMsOf(pid) - cpu0;
      total.requests += load.count;
      if (load.errors > 0) console.log(`${name}: ${load.errors} errors, first: ${load.firstError}`);
      total.p50s.push(median(load.latencies));
    }
  }
  for (const [name, t] of totals) {
    console.log(
      `${name.padEnd(8)} ${((1000 * t.cpuMs) / t.requests).toFixed(0).padStart(6)} µs CPU/req  p50 ${median(t.p50s).toFixed(2)} ms  (${t.requests} requests)`,
    );
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const buildDir = dirname(fileURLToPath(import.meta.url));
  const storageDir = existsSync("/dev/shm") ? `/dev/shm/keyforge-profile-${process.pid}` : undefined;
  const stack = await startStack({ buildDir, storageDir, latencyMs: 20, gapMs: 2, inspectorPort: INSPECTOR_PORT });
  const suite = stack.suites.find((s) => s.endpoint === endpoint)!;
  const target = suite.targets.keyforge!;
  await runLoad(target, { concurrency, durationMs: 1_500, stream });
  await cpuPerRequest(stack, suite);
  if (seconds <= 0) return;
  const send = await inspector();
  const intervalUs = 100;
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: intervalUs });
  await send("Profiler.start");
  const load = await runLoad(target, { concurrency, durationMs: seconds * 1000, stream });
  const { profile } = (await send("Profiler.stop")) as { profile: { nodes: ProfileNode[] } };
  console.log(`${endpoint} ${stream ? "streamed" : "buffered"} c=${concurrency}: ${load.count} requests, ${load.errors} errors`);
  report(profile.nodes, intervalUs);
}

try {
  await main();
} finally {
  await closePools();
  await cleanupAll();
}
process.exit(0);
