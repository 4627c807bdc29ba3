import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * Child processes of the bench: spawning with a readiness check, finding the workerd that a
 * Miniflare started, reading their memory from /proc, and stopping exactly what we started.
 */

const cleanups: Array<() => Promise<void> | void> = [];
const children = new Set<ChildProcess>();

// Last resort (an exception, a second Ctrl-C): never leave a child behind when this process exits.
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Registers something to stop when the bench ends, normally or not (LIFO). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    await Promise.resolve()
      .then(fn)
      .catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
  }
}

function statOf(pid: number): { comm: string; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    return { comm, ppid };
  } catch {
    return null;
  }
}

/** Pids of our own children named `comm`. */
export function childPids(comm: string): Set<number> {
  const out = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = statOf(pid);
    if (stat && stat.ppid === process.pid && stat.comm === comm) out.add(pid);
  }
  return out;
}

/** The one child named `comm` that was not in `before`. */
export function newChildPid(comm: string, before: Set<number>): number {
  const fresh = [...childPids(comm)].filter((pid) => !before.has(pid));
  if (fresh.length !== 1) throw new Error(`expected one new ${comm} process, found ${fresh.length}`);
  return fresh[0]!;
}

export interface Memory {
  rssMiB: number;
  hwmMiB: number;
  /** RSS split: anonymous (heaps), file-backed and shared-memory (e.g. mapped tmpfs files) pages. */
  anonMiB: number;
  fileMiB: number;
  shmemMiB: number;
}

/** VmRSS (now), VmHWM (peak since start) and the RSS split of a process, in MiB. */
export function memoryOf(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const mib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) / 1024;
    return { rssMiB: mib("VmRSS"), hwmMiB: mib("VmHWM"), anonMiB: mib("RssAnon"), fileMiB: mib("RssFile"), shmemMiB: mib("RssShmem") };
  } catch {
    return null;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Spawns a process, stops it at cleanup (SIGTERM, then SIGKILL), and fails fast if it exits early. */
export function spawnTracked(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess & { tail(): string } {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
  children.add(child);
  child.once("exit", () => children.delete(child));
  onCleanup(() => stopChild(child));
  // Always drain the pipes (a full pipe would block the child mid-benchmark); keep a tail for errors.
  let tail = "";
  const keep = (data: Buffer) => (tail = (tail + data.toString("utf8")).slice(-4_000));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  return Object.assign(child, { tail: () => tail });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(timer);
}

/** Resolves with the first stdout line matching `pattern`; rejects if the child exits first. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}`)), timeoutMs);
    const onData = (data: Buffer) => {
      buffered += data.toString("utf8");
      const match = pattern.exec(buffered);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolve(match);
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`process exited (${code}) before ${pattern}`)));
  });
}

/** Polls a URL until it answers (any status), for servers that print nothing parseable. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not come up`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/**
 * CPU time (user + system, all threads) a process has used, in ms: the scheduler's nanosecond
 * run time of each thread (`/proc/<pid>/task/<tid>/schedstat`), not `/proc/<pid>/stat`'s 10 ms
 * ticks, which at c=1 (about 100 ms of CPU per 2 s round) made each reading ±10 %.
 */
export function cpuMsOf(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

/** CPU time the whole machine has been busy (all cores), in ms: to see load from other processes. */
export function machineBusyMs(): number {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}
