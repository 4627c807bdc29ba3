import { h, type Child } from "../lib/dom";

/**
 * Data tables. Each cell carries `data-label` and wraps its content in one element, so on a phone
 * the CSS can lay a row out as a card of "label: value" lines.
 */

export const cell = (label: string, ...children: Child[]): HTMLTableCellElement =>
  h("td", { attrs: { "data-label": label } }, h("div", { class: "cell" }, ...children));

export const rowHeader = (label: string, ...children: Child[]): HTMLTableCellElement =>
  h("th", { attrs: { scope: "row", "data-label": label } }, h("div", { class: "cell" }, ...children));

export function dataTable(options: { testId: string; caption: string; head: HTMLTableCellElement[] | string[]; rows: HTMLTableRowElement[] }): HTMLElement {
  const head = options.head.map((col) => (typeof col === "string" ? h("th", { attrs: { scope: "col" } }, col) : col));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data-table responsive", attrs: { "data-testid": options.testId } },
      h("caption", { class: "visually-hidden" }, options.caption),
      h("thead", {}, h("tr", {}, ...head)),
      h("tbody", {}, ...options.rows),
    ),
  );
}
