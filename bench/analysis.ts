import { findCase, type CaseResult, type Mode } from "./matrix";
import type { TargetName } from "./servers";
import { median, round, summarize } from "./stats";
import type { Endpoint } from "./workload";

/** Per-case figures, ratios and the pass/fail of each target, from the raw matrix results. */

export interface CaseRow {
  endpoint: Endpoint;
  target: TargetName;
  mode: Mode;
  concurrency: number;
  requests: number;
  errors: number;
  firstError: string | null;
  rps: number;
  p50: number;
  p99: number;
  /** Latency over direct-to-upstream, same mode and concurrency. */
  addedP50: number;
  addedP99: number;
  ttftP50: number | null;
  ttftP99: number | null;
  addedTtftP50: number | null;
  /** Gateway process CPU per request, in microseconds (null for direct). */
  cpuUsPerRequest: number | null;
  /** Smallest and largest per-round p50: how much the rounds disagreed. */
  roundP50Range: [number, number];
}

export interface Check {
  name: string;
  value: number;
  /** e.g. "≤ 1 ms". */
  target: string;
  unit: string;
  met: boolean;
  /** The same comparison paired round by round (median of per-round differences), when it applies. */
  paired?: number;
}

export function caseRows(results: CaseResult[]): CaseRow[] {
  return results.map((r) => {
    const lat = summarize(r.latencies);
    const ttft = r.ttfts.length ? summarize(r.ttfts) : null;
    const direct = findCase(results, r.endpoint, "direct", r.mode, r.concurrency);
    const dLat = direct ? summarize(direct.latencies) : null;
    const dTtft = direct && direct.ttfts.length ? summarize(direct.ttfts) : null;
    return {
      endpoint: r.endpoint,
      target: r.target,
      mode: r.mode,
      concurrency: r.concurrency,
      requests: r.requests,
      errors: r.errors,
      firstError: r.firstError,
      rps: round((r.requests / r.elapsedMs) * 1000),
      p50: round(lat.p50),
      p99: round(lat.p99),
      addedP50: round(dLat ? lat.p50 - dLat.p50 : NaN),
      addedP99: round(dLat ? lat.p99 - dLat.p99 : NaN),
      ttftP50: ttft && round(ttft.p50),
      ttftP99: ttft && round(ttft.p99),
      addedTtftP50: ttft && dTtft ? round(ttft.p50 - dTtft.p50) : null,
      cpuUsPerRequest: Number.isNaN(r.cpuMs) ? null : round((r.cpuMs / Math.max(1, r.requests)) * 1000),
      roundP50Range: [round(Math.min(...r.roundP50)), round(Math.max(...r.roundP50))],
    };
  });
}

function row(rows: CaseRow[], endpoint: Endpoint, target: TargetName, mode: Mode, c: number): CaseRow | undefined {
  return rows.find((r) => r.endpoint === endpoint && r.target === target && r.mode === mode && r.concurrency === c);
}

export interface Ratio {
  endpoint: Endpoint;
  mode: Mode;
  concurrency: number;
  kfOverBareRps: number;
  kfOverBareP50: number;
  kfOverPortkeyRps: number;
  kfOverPortkeyP50: number;
  /** KeyForge − bare, ms: latency p50 / p99 and (streamed) TTFT p50 / p99. */
  overBareP50: number;
  overBareP99: number;
  overBareTtftP50: number | null;
  overBareTtftP99: number | null;
}

/** KeyForge against bare (and Portkey, NaN where an endpoint has no Portkey case), per endpoint. */
export function ratios(rows: CaseRow[], endpoints: Endpoint[], modes: Mode[], concurrencies: number[]): Ratio[] {
  const out: Ratio[] = [];
  for (const endpoint of endpoints) {
    for (const mode of modes) {
      for (const c of concurrencies) {
        const kf = row(rows, endpoint, "keyforge", mode, c);
        const bare = row(rows, endpoint, "bare", mode, c);
        const pk = row(rows, endpoint, "portkey", mode, c);
        if (!kf || !bare) continue;
        out.push({
          endpoint,
          mode,
          concurrency: c,
          kfOverBareRps: round(kf.rps / bare.rps),
          kfOverBareP50: round(kf.p50 / bare.p50),
          kfOverPortkeyRps: pk ? round(kf.rps / pk.rps) : NaN,
          kfOverPortkeyP50: pk ? round(kf.p50 / pk.p50) : NaN,
          overBareP50: round(kf.p50 - bare.p50),
          overBareP99: round(kf.p99 - bare.p99),
          overBareTtftP50: kf.ttftP50 !== null && bare.ttftP50 !== null ? round(kf.ttftP50 - bare.ttftP50) : null,
          overBareTtftP99: kf.ttftP99 !== null && bare.ttftP99 !== null ? round(kf.ttftP99 - bare.ttftP99) : null,
        });
      }
    }
  }
  return out;
}

/** Median over rounds of (a's round p50 − b's round p50): the same difference, less exposed to drift. */
function pairedP50(results: CaseResult[], endpoint: Endpoint, a: TargetName, b: TargetName, mode: Mode, c: number, ttft = false): number | undefined {
  const ra = findCase(results, endpoint, a, mode, c);
  const rb = findCase(results, endpoint, b, mode, c);
  if (!ra || !rb) return undefined;
  const xs = ttft ? ra.roundTtftP50 : ra.roundP50;
  const ys = ttft ? rb.roundTtftP50 : rb.roundP50;
  return round(median(xs.map((x, i) => x - (ys[i] ?? NaN))));
}

/**
 * The hot-path targets (issue 17) for every endpoint. Chat's checks keep their historical names;
 * the other endpoints' are prefixed with the endpoint (e.g. "messages streamed c=1: TTFT p50 over bare").
 */
export function checks(results: CaseResult[], rows: CaseRow[], endpoints: Endpoint[], modes: Mode[], low: number, high: number): Check[] {
  const out: Check[] = [];
  type Rule = "at most" | "at least" | "below";
  const add = (name: string, value: number, limit: number, unit: string, rule: Rule, paired?: number) => {
    const met = rule === "at most" ? value <= limit : rule === "at least" ? value >= limit : value < limit;
    const sign = rule === "at most" ? "≤" : rule === "at least" ? "≥" : "<";
    out.push({ name, value: round(value), target: `${sign} ${limit} ${unit}`, unit, met, ...(paired === undefined ? {} : { paired }) });
  };
  for (const endpoint of endpoints) {
    const prefix = endpoint === "chat" ? "" : `${endpoint} `;
    const paired = (a: TargetName, b: TargetName, mode: Mode, c: number, ttft = false) => pairedP50(results, endpoint, a, b, mode, c, ttft);
    for (const mode of modes) {
      const kf = row(rows, endpoint, "keyforge", mode, low);
      const bare = row(rows, endpoint, "bare", mode, low);
      if (kf && bare) {
        add(`${prefix}${mode} c=${low}: p50 over bare`, kf.p50 - bare.p50, 1, "ms", "at most", paired("keyforge", "bare", mode, low));
        add(`${prefix}${mode} c=${low}: p99 over bare`, kf.p99 - bare.p99, 3, "ms", "at most");
        if (mode === "streamed" && kf.ttftP50 !== null && bare.ttftP50 !== null) {
          add(`${prefix}streamed c=${low}: TTFT p50 over bare`, kf.ttftP50 - bare.ttftP50, 1, "ms", "at most", paired("keyforge", "bare", mode, low, true));
        }
      }
      const kfHigh = row(rows, endpoint, "keyforge", mode, high);
      const bareHigh = row(rows, endpoint, "bare", mode, high);
      if (kfHigh && bareHigh) add(`${prefix}${mode} c=${high}: throughput / bare`, kfHigh.rps / bareHigh.rps, 0.7, "×", "at least");
      for (const c of [low, high]) {
        const k = row(rows, endpoint, "keyforge", mode, c);
        const p = row(rows, endpoint, "portkey", mode, c);
        if (k && p)
          add(`${prefix}${mode} c=${c}: added p50, KeyForge − Portkey`, k.addedP50 - p.addedP50, 0, "ms", "below", paired("keyforge", "portkey", mode, c));
      }
    }
  }
  return out;
}

/** The metering check as targets: on every endpoint, every KeyForge request sent was charged by its KeyGuard. */
export function meteringChecks(byEndpoint: Record<string, { sent: number; metered: number }>): Check[] {
  return Object.entries(byEndpoint).map(([endpoint, m]) => ({
    name: `${endpoint}: KeyForge requests charged / sent`,
    value: round(m.sent === 0 ? NaN : m.metered / m.sent),
    target: "≥ 1 ×",
    unit: "×",
    met: m.sent > 0 && m.metered >= m.sent,
  }));
}

/** A key in a shared budget against the same key without one (chat), per mode and concurrency. */
export interface BudgetRow {
  mode: Mode;
  concurrency: number;
  /** The budget member − bare, ms (as `overBare*` of the plain key in the ratios). */
  overBareP50: number;
  overBareP99: number;
  overBareTtftP50: number | null;
  /** The budget member − the plain key, ms: pooled percentiles, and paired (median of per-round differences). */
  overKeyP50: number;
  overKeyP99: number;
  overKeyTtftP50: number | null;
  pairedOverKeyP50: number | undefined;
  pairedOverKeyTtftP50: number | undefined;
  /** Budget member req/s ÷ plain key req/s. */
  rpsOverKey: number;
  /** KeyForge's CPU per request with the plain key and with the budget member, µs. */
  keyCpuUsPerRequest: number | null;
  budgetCpuUsPerRequest: number | null;
}

export function budgetRows(results: CaseResult[], rows: CaseRow[], modes: Mode[], concurrencies: number[]): BudgetRow[] {
  const out: BudgetRow[] = [];
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : round(a - b));
  for (const mode of modes) {
    for (const c of concurrencies) {
      const member = row(rows, "chat", "keyforge-budget", mode, c);
      const key = row(rows, "chat", "keyforge", mode, c);
      const bare = row(rows, "chat", "bare", mode, c);
      if (!member || !key || !bare) continue;
      const streamed = mode === "streamed";
      out.push({
        mode,
        concurrency: c,
        overBareP50: round(member.p50 - bare.p50),
        overBareP99: round(member.p99 - bare.p99),
        overBareTtftP50: diff(member.ttftP50, bare.ttftP50),
        overKeyP50: round(member.p50 - key.p50),
        overKeyP99: round(member.p99 - key.p99),
        overKeyTtftP50: diff(member.ttftP50, key.ttftP50),
        pairedOverKeyP50: pairedP50(results, "chat", "keyforge-budget", "keyforge", mode, c),
        pairedOverKeyTtftP50: streamed ? pairedP50(results, "chat", "keyforge-budget", "keyforge", mode, c, true) : undefined,
        rpsOverKey: round(member.rps / key.rps),
        keyCpuUsPerRequest: key.cpuUsPerRequest,
        budgetCpuUsPerRequest: member.cpuUsPerRequest,
      });
    }
  }
  return out;
}

/** The budget case's metering as targets: every request it sent was charged on its key and on its budget. */
export function budgetMeteringChecks(m: { sent: number; key: number; budget: number }): Check[] {
  const check = (name: string, charged: number): Check => ({
    name,
    value: round(m.sent === 0 ? NaN : charged / m.sent),
    target: "≥ 1 ×",
    unit: "×",
    met: m.sent > 0 && charged >= m.sent,
  });
  return [check("chat, key in a budget: charged on the key / sent", m.key), check("chat, key in a budget: charged on the budget / sent", m.budget)];
}
