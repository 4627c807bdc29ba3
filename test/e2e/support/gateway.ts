import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import { freePort } from "./ports";

/**
 * A real local gateway for end-to-end tests: `wrangler dev` (workerd, local D1 and Durable Objects)
 * on a free port, its own persistence directory, fresh secrets passed with --var (an empty
 * --env-file keeps a developer's .dev.vars out), migrations applied first: copied from the run's
 * migrated template (support/migrated-d1.ts), else applied here.
 */

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const VITE = join(ROOT, "node_modules/vite/bin/vite.js");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1", FORCE_COLOR: "0" };

export interface Gateway {
  url: string;
  adminToken: string;
  logs: () => string;
  stop: () => Promise<void>;
}

const secret = (bytes: number) => randomBytes(bytes).toString("base64url");

function runOrThrow(args: string[], what: string): void {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, env: ENV, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

/** Builds dashboard/dist from the current sources, so the test never runs a stale build. */
export function buildDashboard(): void {
  runOrThrow([VITE, "build", "-c", "dashboard/vite.config.ts", "--logLevel", "warn"], "vite build");
}

/** The production migrations folder applied to a local persistence directory, by wrangler itself. */
export function applyMigrations(dir: string): void {
  runOrThrow([WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", dir], "wrangler d1 migrations apply");
}

async function waitForHealth(url: string, child: ChildProcess, logs: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${logs()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer /healthz within ${timeoutMs} ms:\n${logs()}`);
}

export async function startGateway(extraVars: Record<string, string> = {}): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), "keyforge-e2e-"));
  const template = inject("migratedD1");
  if (template !== undefined && existsSync(template)) cpSync(template, dir, { recursive: true });
  else applyMigrations(dir);
  const envFile = join(dir, "empty.env");
  writeFileSync(envFile, "");
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const adminToken = `kf_admin_${secret(24)}`;
  const vars: Record<string, string> = {
    ADMIN_TOKEN: adminToken,
    KEY_PEPPER: secret(32),
    VAULT_KEKS: `v1:${randomBytes(32).toString("base64")}`,
    AUDIT_HMAC_SECRET: secret(32),
    AUDIT_SIGNING_KEYS: `keyforge-e2e:${randomBytes(32).toString("base64")}`,
    KEYFORGE_MOCK_PROVIDER: "on",
    ROLLUP_FLUSH_MS: "1000",
    ...extraVars,
  };
  const args = [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--persist-to", dir, "--env-file", envFile, "--show-interactive-dev-session=false", "--live-reload=false");
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  // Its own process group, so teardown can stop wrangler's node process and the workerd it spawned.
  const child = spawn(process.execPath, args, { cwd: ROOT, env: ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n"));
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const logs = () => lines.join("\n").replaceAll(adminToken, "<admin token>");
  const url = `http://127.0.0.1:${port}`;

  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch {
      // the group is already gone
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      signal("SIGTERM");
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 5000))]);
      if (timedOut) signal("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, child, logs, 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, adminToken, logs, stop };
}
