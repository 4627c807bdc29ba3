import { join } from "node:path";
import { TEST_SECRETS } from "../test/support/test-secrets";
import type { Target } from "./load";
import { childPids, freePort, onCleanup, spawnTracked, waitForHttp, waitForLine } from "./processes";
import { startForwarder, startKeyForge, type RunningWorker } from "./workers";

/**
 * Starts everything on loopback: the mock upstream (own process), the bare forwarder and KeyForge
 * (each its own Miniflare/workerd), and Portkey's gateway on Node. Returns the four targets and the
 * pids whose memory we sample. Everything registers its own cleanup.
 */

export type TargetName = "direct" | "bare" | "keyforge" | "portkey";

export interface Stack {
  upstreamUrl: string;
  targets: Record<TargetName, Target>;
  pids: Partial<Record<TargetName, number>>;
  upstreamPid: number;
  keyforge: RunningWorker;
  /** Makes a fully-bounded virtual key (every limit set, none reached) and returns its token. */
  createKey(name: string): Promise<string>;
  /** Requests the KeyGuard of the bench's main key has charged (settled) so far. */
  meteredRequests(): Promise<number>;
}

export interface StackOptions {
  /** Where bench/run.mjs put upstream.mjs and keyforge.mjs. */
  buildDir: string;
  /** KeyForge's D1 and Durable Object SQLite files: a tmpfs directory, or undefined for Miniflare's temp dir on disk. */
  storageDir?: string;
  latencyMs: number;
  gapMs: number;
  probeScript?: string;
}

const UPSTREAM_KEY = "sk-bench-dummy-0123456789";
const json = { "content-type": "application/json" };

async function startUpstream(dir: string, latencyMs: number, gapMs: number): Promise<{ url: string; pid: number }> {
  const child = spawnTracked(process.execPath, [join(dir, "upstream.mjs"), String(latencyMs), String(gapMs)]);
  const match = await waitForLine(child, /READY (\S+)/);
  return { url: match[1]!, pid: child.pid! };
}

async function startPortkey(upstreamUrl: string): Promise<{ target: Target; pid: number }> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, ["node_modules/@portkey-ai/gateway/build/start-server.js", `--port=${port}`, "--headless"]);
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(`${origin}/`);
  const headers = {
    ...json,
    authorization: `Bearer ${UPSTREAM_KEY}`,
    "x-portkey-provider": "openai",
    "x-portkey-custom-host": `${upstreamUrl}/v1`,
  };
  return { target: { name: "portkey", origin, path: "/v1/chat/completions", headers }, pid: child.pid! };
}

const adminHeaders = { ...json, authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` };

async function createKey(keyforgeUrl: string, name: string): Promise<{ id: string; key: string }> {
  const res = await fetch(`${keyforgeUrl}/admin/v1/keys`, {
    method: "POST",
    headers: adminHeaders,
    // Every limit is set, so every admission check runs; none is close to being reached.
    body: JSON.stringify({ name, rpm: 10_000_000, tpm: 1_000_000_000_000, monthly_token_quota: 1e15, spend_cap_usd: 1e9 }),
  });
  if (res.status !== 201) throw new Error(`creating a virtual key: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; key: string };
}

async function meteredRequests(keyforgeUrl: string, id: string): Promise<number> {
  const res = await fetch(`${keyforgeUrl}/admin/v1/keys/${id}`, { headers: adminHeaders });
  if (!res.ok) throw new Error(`reading key usage: HTTP ${res.status}`);
  return ((await res.json()) as { usage: { requests: number } }).usage.requests;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const upstream = await startUpstream(options.buildDir, options.latencyMs, options.gapMs);
  const upstreamUrl = upstream.url;
  const before = childPids("workerd");
  const bare = await startForwarder(upstreamUrl, before);
  onCleanup(() => bare.mf.dispose());
  const keyforge = await startKeyForge(
    { scriptPath: join(options.buildDir, "keyforge.mjs"), upstreamUrl, probeScript: options.probeScript, storageDir: options.storageDir },
    new Set([...before, bare.pid]),
  );
  onCleanup(() => keyforge.mf.dispose());
  const portkey = await startPortkey(upstreamUrl);
  const vk = await createKey(keyforge.url, "bench");
  const path = "/v1/chat/completions";
  return {
    upstreamUrl,
    upstreamPid: upstream.pid,
    keyforge,
    createKey: async (name) => (await createKey(keyforge.url, name)).key,
    meteredRequests: () => meteredRequests(keyforge.url, vk.id),
    pids: { bare: bare.pid, keyforge: keyforge.pid, portkey: portkey.pid },
    targets: {
      direct: { name: "direct", origin: upstreamUrl, path, headers: { ...json, authorization: `Bearer ${UPSTREAM_KEY}` } },
      bare: { name: "bare", origin: bare.url, path, headers: { ...json, authorization: `Bearer ${UPSTREAM_KEY}` } },
      keyforge: { name: "keyforge", origin: keyforge.url, path, headers: { ...json, authorization: `Bearer ${vk.key}` } },
      portkey: portkey.target,
    },
  };
}
