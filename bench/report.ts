import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { BudgetRow, CaseRow, Check, Ratio } from "./analysis";
import type { CeilingResult } from "./ceiling";
import type { GrowthResult, ProcessMemory } from "./memory";

/** bench/results.json (everything, machine-readable) and bench/RESULTS.md (the tables). */

export interface Meta {
  date: string;
  commit: string;
  profile: "default" | "quick" | "memory";
  node: string;
  cpus: number;
  versions: { workerd: string; miniflare: string; portkey: string };
  rounds: number;
  sliceMs: number;
  upstream: { latencyMs: number; gapMs: number; chunks: number; frames?: Record<string, number> };
  /** Where KeyForge's D1 / Durable Object SQLite files were: tmpfs (no fsync cost) or disk. */
  storage: "tmpfs" | "disk";
  /** Average cores kept busy by processes other than the bench during the matrix. */
  backgroundCores: number;
  /** KeyForge requests sent in the matrix vs requests its KeyGuards charged (settle ran for each), in all and per endpoint. */
  metering: {
    sent: number;
    metered: number;
    byEndpoint?: Record<string, { sent: number; metered: number }>;
    /** The budget case (chat): requests sent, charged on the member key, charged on the budget. */
    budget?: { sent: number; key: number; budget: number };
  };
  durationS: number;
}

export interface Results {
  meta: Meta;
  cases: CaseRow[];
  ratios: Ratio[];
  /** A key in a shared budget vs the same key without one. */
  budget?: BudgetRow[];
  checks: Check[];
  ceiling: CeilingResult | null;
  memory: {
    processes: Record<string, ProcessMemory>;
    /** Each process's peak when the matrix ended: every target had run the same cases (the ceiling phase after it is KeyForge's alone). */
    afterMatrix?: Record<string, ProcessMemory>;
    growth: GrowthResult[] | null;
    growthFrom?: string;
  };
}

/** Keeps the last measured memory growth (the slow `--memory` mode) when this run did not redo it. */
export function previousGrowth(path: string): { growth: GrowthResult[]; from: string } | null {
  if (!existsSync(path)) return null;
  try {
    const old = JSON.parse(readFileSync(path, "utf8")) as Results;
    if (!Array.isArray(old.memory?.growth)) return null;
    return { growth: old.memory.growth, from: old.memory.growthFrom ?? `${old.meta.date} (${old.meta.commit})` };
  } catch {
    return null;
  }
}

const f = (v: number | null | undefined, unit = "") => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${v}${unit}`);
const mib = (v: number | undefined) => (v === undefined ? undefined : Math.round(v));
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

function caseTable(cases: CaseRow[]): string {
  return table(
    [
      "endpoint",
      "mode",
      "c",
      "target",
      "requests",
      "req/s",
      "p50 ms",
      "p99 ms",
      "added p50",
      "added p99",
      "TTFT p50",
      "TTFT p99",
      "added TTFT",
      "CPU µs/req",
      "round p50 range",
      "errors",
    ],
    cases.map((r) => [
      r.endpoint,
      r.mode,
      String(r.concurrency),
      r.target.startsWith("keyforge") ? `**${r.target}**` : r.target,
      String(r.requests),
      f(r.rps),
      f(r.p50),
      f(r.p99),
      r.target === "direct" ? "–" : f(r.addedP50),
      r.target === "direct" ? "–" : f(r.addedP99),
      f(r.ttftP50),
      f(r.ttftP99),
      r.target === "direct" ? "–" : f(r.addedTtftP50),
      f(r.cpuUsPerRequest),
      `${r.roundP50Range[0]}–${r.roundP50Range[1]}`,
      r.errors ? `${r.errors} (${r.firstError})` : "0",
    ]),
  );
}

function memorySection(memory: Results["memory"]): string {
  const lines = [
    "## Memory (resident set of each gateway process)",
    "",
    table(
      ["process", "RSS at start MiB", "peak RSS after the matrix MiB", "peak RSS (VmHWM) at the end MiB", "RSS at end MiB"],
      Object.entries(memory.processes).map(([name, m]) => [
        name,
        f(Math.round(m.startMiB)),
        f(Math.round(memory.afterMatrix?.[name]?.peakMiB ?? NaN)),
        f(Math.round(m.peakMiB)),
        f(Math.round(m.endMiB)),
      ]),
    ),
    "",
    "The peak after the matrix compares the gateways at equal load (Portkey serves the chat cases only); the peak at the end",
    "includes the per-key ceiling phase, which drives up to 128 KeyGuards at 64 concurrent through KeyForge alone.",
    "",
  ];
  const growth = memory.growth;
  if (!growth || growth.length === 0) return [...lines, "Memory growth: not measured yet (`npm run bench -- --memory`)."].join("\n");
  const first = growth[0]!;
  lines.push(
    `Growth under sustained load (c=${first.concurrency}, buffered and streamed in alternating batches of 5k${memory.growthFrom ? `; measured ${memory.growthFrom}` : ""}). ` +
      "RSS / anonymous RSS in MiB after each milestone:",
    "",
    table(
      ["after requests", ...growth.map((g) => `${g.target} RSS / anon`)],
      first.points.map((p, i) => [String(p.requests), ...growth.map((g) => `${f(mib(g.points[i]?.rssMiB))} / ${f(mib(g.points[i]?.anonMiB))}`)]),
    ),
    "",
    ...growth.map(
      (g) =>
        `- ${g.target}: RSS after ${g.points.at(-1)?.requests} vs after ${g.points[0]?.requests}: ${g.growthMiB >= 0 ? "+" : ""}${g.growthMiB.toFixed(1)} MiB ` +
        `(${g.growthPct.toFixed(1)} %); peak ${g.peakMiB.toFixed(0)} MiB; ${g.errors} errors; ${(g.elapsedMs / 1000).toFixed(0)} s.`,
    ),
  );
  return lines.join("\n");
}

function budgetSection(rows: BudgetRow[] | undefined): string {
  if (!rows || rows.length === 0) return "## Shared budget: the extra call\n\nNot measured in this run.";
  const paired = (v: number | undefined) => (v === undefined ? "–" : String(v));
  return [
    "## Shared budget: the extra call",
    "",
    "Chat through KeyForge with a key that belongs to a shared budget (`keyforge-budget`: every window limited, none reachable) " +
      "against the plain bench key (`keyforge`: the same key limits, no budget). *over key* = budget member − plain key; *paired* = median of per-round differences.",
    "",
    table(
      [
        "mode",
        "c",
        "over bare p50 ms",
        "over bare p99 ms",
        "TTFT over bare p50 ms",
        "over key p50 ms",
        "over key p50, paired",
        "over key p99 ms",
        "TTFT over key p50 ms",
        "TTFT over key, paired",
        "req/s member ÷ key",
        "CPU µs/req key → member",
      ],
      rows.map((b) => [
        b.mode,
        String(b.concurrency),
        f(b.overBareP50),
        f(b.overBareP99),
        f(b.overBareTtftP50),
        f(b.overKeyP50),
        paired(b.pairedOverKeyP50),
        f(b.overKeyP99),
        f(b.overKeyTtftP50),
        paired(b.pairedOverKeyTtftP50),
        f(b.rpsOverKey),
        `${f(b.keyCpuUsPerRequest)} → ${f(b.budgetCpuUsPerRequest)}`,
      ]),
    ),
  ].join("\n");
}

function ceilingSection(c: CeilingResult | null): string {
  if (!c) return "## Per-key Durable Object ceiling\n\nNot measured in this run.";
  return [
    "## Per-key Durable Object ceiling",
    "",
    "KeyGuard alone (a probe Worker calling `admit()` + `settle()` back to back, no HTTP, no upstream):",
    "",
    table(
      ["keys", "concurrency", "admit+settle pairs/s"],
      c.probe.map((p) => [String(p.keys), String(p.concurrency), f(Math.round(p.pairsPerSec))]),
    ),
    "",
    "Whole gateway, buffered, all clients on one virtual key vs each client on its own key:",
    "",
    table(
      ["keys", "concurrency", "req/s", "p50 ms"],
      c.gateway.map((g) => [String(g.keys), String(g.concurrency), f(Math.round(g.rps)), f(Math.round(g.p50 * 10) / 10)]),
    ),
  ].join("\n");
}

/** Says plainly when the figures are only indicative: a quick run, or other load on the machine. */
function caveats(m: Meta): string[] {
  const out: string[] = [];
  if (m.profile === "quick")
    out.push(`**Quick run** (${m.rounds} rounds of ${m.sliceMs / 1000} s per case): indicative only; the targets are judged on the default profile.`);
  if (m.backgroundCores >= 0.5)
    out.push(
      `**Loaded machine**: other processes kept ${m.backgroundCores} of ${m.cpus} cores busy during the matrix, so latencies (p99 above all) are noisy.`,
    );
  return out;
}

function meteringLine(m: Meta["metering"]): string {
  const parts = Object.entries(m.byEndpoint ?? {}).map(([endpoint, e]) => `${endpoint} ${e.metered}/${e.sent}`);
  const budget = m.budget
    ? ` Key in a shared budget (chat): ${m.budget.key} of ${m.budget.sent} charged on the key, ${m.budget.budget} of ${m.budget.sent} on the budget (its \`month\` window in GET /admin/v1/budgets/:id).`
    : "";
  return `Metering check: the KeyGuards charged ${m.metered} of the ${m.sent} requests sent through KeyForge in the matrix${parts.length ? ` (${parts.join(", ")})` : ""}.${budget}`;
}

function upstreamLine(u: Meta["upstream"]): string {
  const frames = u.frames
    ? `chat ${u.frames.chat} (role, 5 content, finish, usage, [DONE]); messages ${u.frames.messages} (message_start, ping, content_block_start, ping, 5 text_delta, content_block_stop, message_delta, message_stop); responses ${u.frames.responses} (response.created, in_progress, output_item.added, content_part.added, 5 output_text.delta, output_text.done, content_part.done, output_item.done, response.completed)`
    : `${u.chunks} (role, 5 content, finish, usage, [DONE])`;
  return `Upstream: exact-format mocks on loopback (OpenAI Chat Completions and Responses, Anthropic Messages), ${u.latencyMs} ms before headers; streamed: one SSE frame every ${u.gapMs} ms — ${frames}.`;
}

export function renderMarkdown(r: Results): string {
  const m = r.meta;
  return [
    "# KeyForge benchmark results",
    "",
    `Generated by \`npm run bench${m.profile === "default" ? "" : ` -- --${m.profile}`}\` on ${m.date} at ${m.commit}; Node ${m.node}, workerd ${m.versions.workerd}, Portkey gateway ${m.versions.portkey}, ${m.cpus} cores, ` +
      `${m.rounds} interleaved rounds of ${m.sliceMs / 1000} s per case, ${m.durationS} s in all. Other processes kept ${m.backgroundCores} cores busy on average during the matrix.`,
    ...caveats(m),
    upstreamLine(m.upstream),
    `KeyForge's D1 and Durable Object SQLite files on ${m.storage}${m.storage === "tmpfs" ? " (fsync is free there: the figures leave out storage durability, see docs/performance.md)" : " (every Durable Object commit pays this machine's fsync)"}.`,
    meteringLine(m.metering),
    "Requests: chat and responses `gpt-4o-mini`, messages `claude-haiku-4-5` (each forwarded natively by KeyForge); Portkey only on chat.",
    "Latencies in ms; *added* = case − direct (same endpoint, mode and concurrency); TTFT = first frame carrying text. See docs/performance.md for what each case measures.",
    "",
    "## Latency and throughput",
    "",
    caseTable(r.cases),
    "",
    "## Ratios (same run)",
    "",
    table(
      [
        "endpoint",
        "mode",
        "c",
        "KeyForge/bare req/s",
        "KeyForge/bare p50",
        "KeyForge/Portkey req/s",
        "KeyForge/Portkey p50",
        "over bare p50 ms",
        "over bare p99 ms",
        "TTFT over bare p50 ms",
        "TTFT over bare p99 ms",
      ],
      r.ratios.map((x) => [
        x.endpoint,
        x.mode,
        String(x.concurrency),
        f(x.kfOverBareRps),
        f(x.kfOverBareP50),
        f(x.kfOverPortkeyRps),
        f(x.kfOverPortkeyP50),
        f(x.overBareP50),
        f(x.overBareP99),
        f(x.overBareTtftP50),
        f(x.overBareTtftP99),
      ]),
    ),
    "",
    budgetSection(r.budget),
    "",
    "## Targets",
    "",
    table(
      ["check", "measured", "paired (median of per-round differences)", "target", "met"],
      r.checks.map((c) => [c.name, `${c.value} ${c.unit}`, c.paired === undefined ? "–" : `${c.paired} ${c.unit}`, c.target, c.met ? "yes" : "**no**"]),
    ),
    "",
    ceilingSection(r.ceiling),
    "",
    memorySection(r.memory),
    "",
  ].join("\n");
}

export function writeResults(dir: string, results: Results): void {
  writeFileSync(`${dir}/results.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${dir}/RESULTS.md`, renderMarkdown(results));
}
