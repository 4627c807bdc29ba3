import { h } from "../lib/dom";

/**
 * "used of limit" as a meter: a bar plus the numbers in text (the bar alone carries no
 * information for a screen reader or in a screenshot). No limit → the numbers and "no limit".
 */
export function usageBar(label: string, used: number, limit: number | null, format: (n: number) => string, testId?: string): HTMLElement {
  if (limit === null) {
    return h("div", { class: "usage", attrs: { "data-testid": testId } }, h("span", { class: "usage-text" }, `${format(used)} · no limit`));
  }
  const ratio = limit === 0 ? (used > 0 ? 1 : 0) : used / limit;
  const percent = Math.min(100, Math.round(ratio * 100));
  const level = ratio >= 1 ? "over" : ratio >= 0.8 ? "warn" : "ok";
  const text = `${format(used)} / ${format(limit)}`;
  const fill = h("div", { class: `usage-fill usage-${level}` });
  fill.style.width = `${percent}%`;
  return h(
    "div",
    { class: "usage", attrs: { "data-testid": testId } },
    h(
      "div",
      {
        class: "usage-track",
        attrs: {
          role: "meter",
          "aria-label": label,
          "aria-valuemin": 0,
          "aria-valuemax": limit,
          "aria-valuenow": Math.min(used, limit),
          "aria-valuetext": `${text} (${percent}%)`,
        },
      },
      fill,
    ),
    h("span", { class: "usage-text" }, `${text} · ${percent}%`),
  );
}
