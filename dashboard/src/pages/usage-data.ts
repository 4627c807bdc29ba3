import type { UsageRow } from "../api/schemas";
import type { ChartSeries } from "../ui/bar-chart";

/** Turns usage rollup rows into chart buckets and series. Pure. */

export type Metric = "requests" | "tokens" | "cost";
export type GroupBy = "key" | "model" | "tag" | "user";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_SERIES = 6;

export function metricOf(row: UsageRow, metric: Metric): number {
  if (metric === "requests") return row.requests;
  if (metric === "tokens") return row.prompt_tokens + row.completion_tokens;
  return row.cost_usd;
}

/** Every bucket start from `from` to `to`, so quiet hours show as gaps rather than vanish. */
export function bucketStarts(from: number, to: number, granularity: "hour" | "day"): number[] {
  const step = granularity === "day" ? DAY : HOUR;
  const starts: number[] = [];
  for (let t = from - (from % step); t < to; t += step) starts.push(t);
  return starts;
}

/** A row's series: its key's name, its model, or its tag / end user (rows of a group_by=tag|user query). */
function seriesName(row: UsageRow, groupBy: GroupBy, nameOf: (row: UsageRow) => string): string {
  if (groupBy === "key") return nameOf(row);
  if (groupBy === "tag") return row.tag ?? "(untagged)";
  if (groupBy === "user") return row.user ?? "(no user)";
  return row.model ?? "";
}

export function buildSeries(rows: UsageRow[], buckets: number[], metric: Metric, groupBy: GroupBy, nameOf: (row: UsageRow) => string): ChartSeries[] {
  const index = new Map(buckets.map((b, i) => [b, i]));
  const byName = new Map<string, number[]>();
  for (const row of rows) {
    const i = index.get(Date.parse(row.time));
    if (i === undefined) continue;
    const name = seriesName(row, groupBy, nameOf);
    const values = byName.get(name) ?? new Array<number>(buckets.length).fill(0);
    values[i] = (values[i] ?? 0) + metricOf(row, metric);
    byName.set(name, values);
  }
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const ranked = [...byName.entries()].map(([name, values]) => ({ name, values })).sort((a, b) => sum(b.values) - sum(a.values));
  if (ranked.length <= MAX_SERIES) return ranked;
  const rest = ranked.slice(MAX_SERIES - 1);
  const other = buckets.map((_, i) => rest.reduce((acc, series) => acc + (series.values[i] ?? 0), 0));
  return [...ranked.slice(0, MAX_SERIES - 1), { name: `Other (${rest.length})`, values: other }];
}

export function totals(rows: UsageRow[]): { requests: number; tokens: number; cost: number } {
  return rows.reduce((acc, row) => ({ requests: acc.requests + row.requests, tokens: acc.tokens + metricOf(row, "tokens"), cost: acc.cost + row.cost_usd }), {
    requests: 0,
    tokens: 0,
    cost: 0,
  });
}
