import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { TEST_SECRETS } from "../test/support/test-secrets";
import { newChildPid, onCleanup } from "./processes";

/**
 * The two Workers under test, each in its own Miniflare (its own workerd process, no inspector):
 * the bare forwarder (the floor: fetch the request through to the upstream, body streamed) and
 * KeyForge itself with D1, both Durable Objects (SQLite-backed) and the migrations applied. Their
 * SQLite files live in `storageDir` (the bench puts it on tmpfs) or in Miniflare's temporary
 * directory on disk; either way outside the process's memory, and removed afterwards.
 */

export interface RunningWorker {
  url: string;
  pid: number;
  mf: Miniflare;
}

const COMPATIBILITY_DATE = "2026-04-01";

/**
 * The floor. Nothing but a URL rewrite, the provider key swapped in, and the body passed through:
 * /v1/messages to the Anthropic upstream (x-api-key), everything else to the OpenAI one.
 */
const FORWARDER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\\/v1/, "");
    if (path.startsWith("/messages")) {
      const upstream = new Request(env.ANTHROPIC_UPSTREAM + path, request);
      upstream.headers.set("x-api-key", env.ANTHROPIC_API_KEY);
      return fetch(upstream);
    }
    const upstream = new Request(env.UPSTREAM + path, request);
    upstream.headers.set("authorization", "Bearer " + env.OPENAI_API_KEY);
    return fetch(upstream);
  },
};
`;

async function start(mf: Miniflare, before: Set<number>): Promise<RunningWorker> {
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { url, pid: newChildPid("workerd", before), mf };
}

export async function startForwarder(upstreamUrl: string, before: Set<number>): Promise<RunningWorker> {
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    modules: true,
    script: FORWARDER,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: {
      UPSTREAM: `${upstreamUrl}/v1`,
      OPENAI_API_KEY: "sk-bench-dummy-0123456789",
      ANTHROPIC_UPSTREAM: `${upstreamUrl}/anthropic/v1`,
      ANTHROPIC_API_KEY: "sk-ant-bench-dummy-0123456789",
    },
  });
  return start(mf, before);
}

export interface KeyForgeOptions {
  scriptPath: string;
  upstreamUrl: string;
  /** Where D1 and Durable Object SQLite files go (default: Miniflare's temporary directory). */
  storageDir?: string;
  /** A bench-only Worker bound to the KeyGuard class, for the per-key DO ceiling. */
  probeScript?: string;
  /** V8 inspector for the profile run (`npm run bench:profile`); never set for the measured bench. */
  inspectorPort?: number;
}

export async function startKeyForge(options: KeyForgeOptions, before: Set<number>): Promise<RunningWorker> {
  if (options.storageDir) {
    const dir = options.storageDir;
    rmSync(dir, { recursive: true, force: true });
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  }
  const keyGuard = { className: "KeyGuard", useSQLite: true, scriptName: "keyforge" };
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    ...(options.storageDir ? { defaultPersistRoot: options.storageDir } : {}),
    ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
    workers: [
      {
        name: "keyforge",
        modules: true,
        scriptPath: options.scriptPath,
        compatibilityDate: COMPATIBILITY_DATE,
        d1Databases: { DB: "keyforge-bench" },
        // wrangler.toml's flags and every Durable Object binding (the admin API needs the control-plane log).
        compatibilityFlags: ["enable_request_signal"],
        durableObjects: {
          KEY_GUARD: keyGuard,
          PROVIDER_POOL: { className: "ProviderPool", useSQLite: true },
          BUDGET_GUARD: { className: "BudgetGuard", useSQLite: true },
          WEBHOOK_DISPATCHER: { className: "WebhookDispatcher", useSQLite: true },
          CONTROL_PLANE_LOG: { className: "ControlPlaneLog", useSQLite: true },
        },
        bindings: {
          ...TEST_SECRETS,
          OPENAI_BASE_URL: `${options.upstreamUrl}/v1`,
          ANTHROPIC_BASE_URL: `${options.upstreamUrl}/anthropic`,
          GEMINI_BASE_URL: `${options.upstreamUrl}/gemini`,
          OPENAI_API_KEY: "sk-bench-dummy-0123456789",
          ANTHROPIC_API_KEY: "sk-ant-bench-dummy-0123456789",
          KEYFORGE_MOCK_PROVIDER: "off",
        },
      },
      ...(options.probeScript
        ? [{ name: "probe", modules: true, script: options.probeScript, compatibilityDate: COMPATIBILITY_DATE, durableObjects: { KEY_GUARD: keyGuard } }]
        : []),
    ],
  });
  const running = await start(mf, before);
  await applyMigrations(mf, "d1-migrations");
  return running;
}

/** The same SQL files wrangler applies, statement by statement (drizzle's breakpoints). */
async function applyMigrations(mf: Miniflare, dir: string): Promise<void> {
  const db = await mf.getD1Database("DB", "keyforge");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const file of files) {
    const statements = readFileSync(join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
}
