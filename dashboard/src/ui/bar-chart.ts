import { h, s } from "../lib/dom";
import { formatTime } from "../lib/format";

/**
 * A stacked bar chart in inline SVG: one column per time bucket, one colour per series. Drawn at
 * the container's pixel width so the axis text stays legible from phone to laptop. The legend and
 * totals are HTML next to it; each bar segment has a `<title>` tooltip.
 */
export interface ChartSeries {
  name: string;
  values: number[];
}

export interface ChartOptions {
  title: string;
  buckets: number[];
  series: ChartSeries[];
  format: (n: number) => string;
  width: number;
  height?: number;
}

const PAD = { top: 12, right: 12, bottom: 26 };
/** Approximate width of one 11px axis-label character, to size the left gutter to the labels. */
const CHAR_PX = 6.8;

/** 1, 2 or 5 times a power of ten, at least `n`: round axis maxima. */
export function niceCeil(n: number): number {
  if (n <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  const step = [1, 2, 5, 10].find((m) => m * power >= n) ?? 10;
  return step * power;
}

export function stackedBarChart(options: ChartOptions): SVGSVGElement {
  const width = Math.max(280, Math.round(options.width));
  const height = options.height ?? 200;
  const n = options.buckets.length;
  const totals = options.buckets.map((_, i) => options.series.reduce((sum, series) => sum + (series.values[i] ?? 0), 0));
  const max = niceCeil(Math.max(0, ...totals));
  const ticks = [0, max / 2, max];
  const left = Math.ceil(Math.max(...ticks.map((t) => options.format(t).length)) * CHAR_PX) + 12;
  const plotW = width - left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const slot = n > 0 ? plotW / n : plotW;
  const barW = Math.max(1, slot * 0.8);

  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "chart", "aria-label": options.title });
  svg.append(s("title", {}, options.title));
  for (const tick of ticks) {
    svg.append(
      s("line", { x1: left, x2: width - PAD.right, y1: y(tick), y2: y(tick), class: "chart-grid" }),
      s("text", { x: left - 6, y: y(tick) + 4, class: "chart-label", "text-anchor": "end" }, options.format(tick)),
    );
  }
  options.buckets.forEach((bucket, i) => {
    let base = 0;
    options.series.forEach((series, si) => {
      const value = series.values[i] ?? 0;
      if (value <= 0) return;
      const x = left + i * slot + (slot - barW) / 2;
      const rect = s("rect", { x, y: y(base + value), width: barW, height: Math.max(1, y(base) - y(base + value)), class: `series-${si % 8}` });
      rect.append(s("title", {}, `${series.name} · ${formatTime(bucket)}: ${options.format(value)}`));
      svg.append(rect);
      base += value;
    });
  });
  // Three time labels where they fit, else the two ends.
  const labelAt = n > 1 ? (plotW >= 320 ? [0, Math.floor((n - 1) / 2), n - 1] : [0, n - 1]) : n === 1 ? [0] : [];
  for (const i of labelAt) {
    const anchor = i === 0 ? "start" : i === n - 1 ? "end" : "middle";
    const x = i === 0 ? left : i === n - 1 ? width - PAD.right : left + (i + 0.5) * slot;
    svg.append(s("text", { x, y: height - 8, class: "chart-label", "text-anchor": anchor }, formatTime(options.buckets[i] ?? 0)));
  }
  return svg;
}

export function chartLegend(series: ChartSeries[], format: (n: number) => string): HTMLElement {
  return h(
    "ul",
    { class: "legend" },
    ...series.map((item, i) =>
      h(
        "li",
        {},
        h("span", { class: `swatch series-${i % 8}`, attrs: { "aria-hidden": "true" } }),
        h("span", { class: "legend-name" }, item.name),
        h("span", { class: "legend-value" }, format(item.values.reduce((a, b) => a + b, 0))),
      ),
    ),
  );
}
