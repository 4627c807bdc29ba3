import type { UsageResponse, VirtualKey } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { formatCompact, formatInt, formatUsd } from "../lib/format";
import { navigate } from "../lib/router";
import { chartLegend, stackedBarChart } from "../ui/bar-chart";
import { selectField } from "../ui/fields";
import { pageHeader } from "../ui/page-header";
import { every } from "../ui/poller";
import { empty, errorBox, loading } from "../ui/states";
import type { Page, PageContext } from "./page";
import { bucketStarts, buildSeries, totals, type GroupBy, type Metric } from "./usage-data";

/**
 * Requests, tokens and cost over time, per key or model (the model rollups), or per tag or end user
 * (the attribution rollups: `group_by=tag|user`, fetched when that grouping is chosen).
 */

const REFRESH_MS = 5_000;
const RANGES: Record<string, { label: string; ms: number; granularity: "hour" | "day" }> = {
  "24h": { label: "Last 24 hours (hourly)", ms: 86_400_000, granularity: "hour" },
  "7d": { label: "Last 7 days (hourly)", ms: 7 * 86_400_000, granularity: "hour" },
  "30d": { label: "Last 30 days (daily)", ms: 30 * 86_400_000, granularity: "day" },
};
const METRICS: Array<{ metric: Metric; title: string; format: (n: number) => string }> = [
  { metric: "requests", title: "Requests", format: formatCompact },
  { metric: "tokens", title: "Tokens", format: formatCompact },
  { metric: "cost", title: "Cost (USD)", format: formatUsd },
];

export function usagePage({ api, route }: PageContext): Page {
  const keyId = route.page === "usage" ? route.keyId : null;
  let keys: VirtualKey[] = [];
  let last: UsageResponse | null = null;
  const keyFilter = selectField("Key", "key", [{ value: "", label: "All keys" }]);
  const range = selectField(
    "Period",
    "range",
    Object.entries(RANGES).map(([value, r]) => ({ value, label: r.label })),
    "24h",
  );
  const groupBy = selectField(
    "Group by",
    "group",
    [
      { value: "key", label: "Key" },
      { value: "model", label: "Model" },
      { value: "tag", label: "Tag" },
      { value: "user", label: "End user" },
    ],
    keyId ? "model" : "key",
  );
  const summary = h("p", { class: "summary", attrs: { "data-testid": "usage-totals", "aria-live": "polite" } });
  const charts = h("div", { class: "charts", attrs: { "aria-busy": "true" } }, loading("Loading usage…"));

  const nameOf = (id: string) => keys.find((k) => k.id === id)?.name ?? id;
  /** The rollups a grouping reads: tag and user have their own; key and model share one. */
  const source = () => (groupBy.select.value === "tag" || groupBy.select.value === "user" ? groupBy.select.value : "model");
  let loadedSource = "model";
  const draw = () => {
    if (!last || loadedSource !== source()) return;
    charts.setAttribute("aria-busy", "false");
    const t = totals(last.data);
    summary.textContent = `${formatInt(t.requests)} requests · ${formatInt(t.tokens)} tokens · ${formatUsd(t.cost)}`;
    // Tag rows count a request once per tag, so their sum can exceed the key's total.
    if (loadedSource === "tag") summary.textContent += " (summed over tags: a request with several tags counts under each)";
    if (last.data.length === 0) {
      render(
        charts,
        empty(
          "No usage in this period yet.",
          "Usage appears here shortly after requests are made (rollups are flushed to D1 every ROLLUP_FLUSH_MS, one minute by default).",
        ),
      );
      return;
    }
    const buckets = bucketStarts(Date.parse(last.from), Date.parse(last.to), last.granularity === "day" ? "day" : "hour");
    const width = charts.clientWidth || 720;
    const figures = METRICS.map(({ metric, title, format }) => {
      const series = buildSeries(last?.data ?? [], buckets, metric, groupBy.select.value as GroupBy, (row) => nameOf(row.key_id));
      const total = series.reduce((acc, s) => acc + s.values.reduce((a, b) => a + b, 0), 0);
      return h(
        "figure",
        { class: "card chart-card", attrs: { "data-testid": `chart-${metric}`, "data-total": total } },
        h("figcaption", {}, h("h2", {}, title), h("span", { class: "chart-total" }, format(total))),
        stackedBarChart({
          title: `${title} per ${last?.granularity ?? "hour"}, by ${groupBy.select.value}`,
          buckets,
          series,
          format,
          width: width - 34,
          height: 180,
        }),
        chartLegend(series, format),
      );
    });
    render(charts, ...figures);
  };
  const load = async () => {
    const r = RANGES[range.select.value] ?? RANGES["24h"]!;
    const to = Date.now();
    const wanted = source();
    try {
      const result = await api.usage({
        key_id: keyFilter.select.value || undefined,
        from: new Date(to - r.ms).toISOString(),
        to: new Date(to).toISOString(),
        granularity: r.granularity,
        group_by: wanted,
      });
      // A grouping changed meanwhile: its own load draws.
      if (wanted !== source()) return;
      last = result;
      loadedSource = wanted;
      draw();
    } catch (error) {
      charts.setAttribute("aria-busy", "false");
      summary.textContent = "";
      render(charts, errorBox(error, "Could not load usage"));
    }
  };
  const loadKeys = async () => {
    try {
      keys = await api.listKeys();
    } catch {
      keys = [];
    }
    render(
      keyFilter.select,
      h("option", { attrs: { value: "" } }, "All keys"),
      ...keys.map((k) => h("option", { attrs: { value: k.id } }, `${k.name} (${k.status})`)),
    );
    keyFilter.select.value = keyId && keys.some((k) => k.id === keyId) ? keyId : "";
  };

  keyFilter.select.addEventListener("change", () => navigate({ page: "usage", keyId: keyFilter.select.value || null }));
  range.select.addEventListener("change", () => void load());
  groupBy.select.addEventListener("change", () => (source() === loadedSource ? draw() : void load()));
  let resizeTimer = 0;
  const onResize = () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(draw, 150);
  };
  window.addEventListener("resize", onResize);
  void loadKeys().then(load);
  const stop = every(REFRESH_MS, () => void load());

  const el = h(
    "section",
    { class: "page" },
    pageHeader(
      "Usage",
      "Requests, tokens and cost over time (UTC buckets). Refreshes every few seconds.",
      button("Refresh", () => void load()),
    ),
    h("div", { class: "toolbar" }, keyFilter.wrap, range.wrap, groupBy.wrap),
    summary,
    charts,
  );
  return {
    el,
    dispose: () => {
      stop();
      window.removeEventListener("resize", onResize);
      window.clearTimeout(resizeTimer);
    },
  };
}
