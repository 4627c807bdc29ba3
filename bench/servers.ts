import { join } from "node:path";
import { TEST_SECRETS } from "../test/support/test-secrets";
import type { Target } from "./load";
import { childPids, freePort, onCleanup, spawnTracked, waitForHttp, waitForLine } from "./processes";
import { startForwarder, startKeyForge, type RunningWorker } from "./workers";
import { type Endpoint, ENDPOINT_PATHS } from "./workload";

/**
 * Starts everything on loopback: the mock upstream (own process), the bare forwarder and KeyForge
 * (each its own Miniflare/workerd), and Portkey's gateway on Node. Returns the targets of each
 * endpoint and the pids whose memory we sample. Everything registers its own cleanup.
 */

/** `keyforge-budget`: KeyForge with a key that belongs to a shared budget (chat only). */
export type TargetName = "direct" | "bare" | "keyforge" | "keyforge-budget" | "portkey";

/** One endpoint's targets. Portkey only for chat: it is the comparison the hot-path targets use. */
export interface Suite {
  endpoint: Endpoint;
  targets: Partial<Record<TargetName, Target>>;
}

export interface Stack {
  upstreamUrl: string;
  /** SSE frames per streamed answer of the upstream, by endpoint. */
  upstreamFrames: Record<Endpoint, number>;
  /** The chat targets (the per-key ceiling and the memory runs use them). */
  targets: Record<TargetName, Target>;
  /** Every endpoint's targets, chat first. */
  suites: Suite[];
  pids: Partial<Record<TargetName, number>>;
  upstreamPid: number;
  keyforge: RunningWorker;
  /** Makes a fully-bounded virtual key (every limit set, none reached) and returns its token. */
  createKey(name: string): Promise<string>;
  /** Requests the KeyGuard of the endpoint's bench key has charged (settled) so far. */
  meteredRequests(endpoint: Endpoint): Promise<number>;
  /** Requests charged so far by the budget member key's KeyGuard, and by the budget's BudgetGuard. */
  budgetMetering(): Promise<{ key: number; budget: number }>;
}

export interface StackOptions {
  /** Where bench/run.mjs put upstream.mjs and keyforge.mjs. */
  buildDir: string;
  /** KeyForge's D1 and Durable Object SQLite files: a tmpfs directory, or undefined for Miniflare's temp dir on disk. */
  storageDir?: string;
  latencyMs: number;
  gapMs: number;
  probeScript?: string;
  inspectorPort?: number;
}

const UPSTREAM_KEY = "sk-bench-dummy-0123456789";
const ANTHROPIC_KEY = "sk-ant-bench-dummy-0123456789";
const json = { "content-type": "application/json" };

async function startUpstream(dir: string, latencyMs: number, gapMs: number): Promise<{ url: string; pid: number; frames: Record<Endpoint, number> }> {
  const child = spawnTracked(process.execPath, [join(dir, "upstream.mjs"), String(latencyMs), String(gapMs)]);
  const match = await waitForLine(child, /READY (\S+) (\S+)/);
  return { url: match[1]!, pid: child.pid!, frames: JSON.parse(match[2]!) as Record<Endpoint, number> };
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
  return { target: { name: "portkey", endpoint: "chat", origin, path: "/v1/chat/completions", headers }, pid: child.pid! };
}

const adminHeaders = { ...json, authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` };

async function createKey(keyforgeUrl: string, name: string, budgetId?: string): Promise<{ id: string; key: string }> {
  const res = await fetch(`${keyforgeUrl}/admin/v1/keys`, {
    method: "POST",
    headers: adminHeaders,
    // Every limit is set, so every admission check runs; none is close to being reached. The budget
    // member gets the very same limits, so the only difference between the two keys is the budget.
    body: JSON.stringify({
      name,
      rpm: 10_000_000,
      tpm: 1_000_000_000_000,
      monthly_token_quota: 1e15,
      spend_cap_usd: 1e9,
      ...(budgetId === undefined ? {} : { budget_id: budgetId }),
    }),
  });
  if (res.status !== 201) throw new Error(`creating a virtual key: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; key: string };
}

/**
 * A shared budget with every window and every dimension limited (the most work its BudgetGuard can
 * do per reservation), none of them reachable in a bench run.
 */
async function createBudget(keyforgeUrl: string): Promise<string> {
  const limits = ["1h", "1d", "7d", "month"].map((window) => ({ window, usd: 1e9, tokens: 1e15, requests: 1e12 }));
  const res = await fetch(`${keyforgeUrl}/admin/v1/budgets`, { method: "POST", headers: adminHeaders, body: JSON.stringify({ name: "bench", limits }) });
  if (res.status !== 201) throw new Error(`creating a shared budget: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * Requests the budget has charged, from its `month` window (calendar UTC windows: the shorter ones
 * may roll over during a run; a run across midnight at the end of a month would undercount).
 */
async function budgetRequests(keyforgeUrl: string, id: string): Promise<number> {
  const res = await fetch(`${keyforgeUrl}/admin/v1/budgets/${id}`, { headers: adminHeaders });
  if (!res.ok) throw new Error(`reading budget usage: HTTP ${res.status}`);
  const { usage } = (await res.json()) as { usage: Array<{ window: string; requests: number }> };
  return usage.find((w) => w.window === "month")?.requests ?? 0;
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
    {
      scriptPath: join(options.buildDir, "keyforge.mjs"),
      upstreamUrl,
      probeScript: options.probeScript,
      storageDir: options.storageDir,
      inspectorPort: options.inspectorPort,
    },
    new Set([...before, bare.pid]),
  );
  onCleanup(() => keyforge.mf.dispose());
  const portkey = await startPortkey(upstreamUrl);
  // One bench key per endpoint, so the metering check can say which endpoint lost a charge.
  const keys = {
    chat: await createKey(keyforge.url, "bench"),
    messages: await createKey(keyforge.url, "bench-messages"),
    responses: await createKey(keyforge.url, "bench-responses"),
  };
  const budgetId = await createBudget(keyforge.url);
  const member = await createKey(keyforge.url, "bench-budget-member", budgetId);
  const openAi = (endpoint: Endpoint, origin: string, name: TargetName, token: string): Target => ({
    name,
    endpoint,
    origin,
    path: ENDPOINT_PATHS[endpoint],
    headers: { ...json, authorization: `Bearer ${token}` },
  });
  // Claude Code's headers: anthropic-version, and the key as a bearer token (ANTHROPIC_AUTH_TOKEN);
  // direct and bare send the provider key as x-api-key, which the bare forwarder overwrites anyway.
  const anthropic = (origin: string, path: string, name: TargetName, auth: Record<string, string>): Target => ({
    name,
    endpoint: "messages",
    origin,
    path,
    headers: { ...json, "anthropic-version": "2023-06-01", ...auth },
  });
  const chat: Record<TargetName, Target> = {
    direct: openAi("chat", upstreamUrl, "direct", UPSTREAM_KEY),
    bare: openAi("chat", bare.url, "bare", UPSTREAM_KEY),
    keyforge: openAi("chat", keyforge.url, "keyforge", keys.chat.key),
    "keyforge-budget": openAi("chat", keyforge.url, "keyforge-budget", member.key),
    portkey: portkey.target,
  };
  return {
    upstreamUrl,
    upstreamFrames: upstream.frames,
    upstreamPid: upstream.pid,
    keyforge,
    createKey: async (name) => (await createKey(keyforge.url, name)).key,
    meteredRequests: (endpoint) => meteredRequests(keyforge.url, keys[endpoint].id),
    budgetMetering: async () => ({ key: await meteredRequests(keyforge.url, member.id), budget: await budgetRequests(keyforge.url, budgetId) }),
    // The budget case runs in KeyForge's process: its CPU is read from the same pid.
    pids: { bare: bare.pid, keyforge: keyforge.pid, "keyforge-budget": keyforge.pid, portkey: portkey.pid },
    targets: chat,
    suites: [
      { endpoint: "chat", targets: chat },
      {
        endpoint: "messages",
        targets: {
          direct: anthropic(upstreamUrl, "/anthropic/v1/messages", "direct", { "x-api-key": ANTHROPIC_KEY }),
          bare: anthropic(bare.url, "/v1/messages", "bare", { "x-api-key": ANTHROPIC_KEY }),
          keyforge: anthropic(keyforge.url, "/v1/messages", "keyforge", { authorization: `Bearer ${keys.messages.key}` }),
        },
      },
      {
        endpoint: "responses",
        targets: {
          direct: openAi("responses", upstreamUrl, "direct", UPSTREAM_KEY),
          bare: openAi("responses", bare.url, "bare", UPSTREAM_KEY),
          keyforge: openAi("responses", keyforge.url, "keyforge", keys.responses.key),
        },
      },
    ],
  };
}
