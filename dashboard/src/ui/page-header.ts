import { h, type Child } from "../lib/dom";

/** A page's h1 (focusable, so route changes can move focus to it), intro and actions. */
export function pageHeader(title: string, intro: Child, ...actions: Child[]): HTMLElement {
  return h(
    "div",
    { class: "page-header" },
    h("div", {}, h("h1", { attrs: { tabindex: -1 } }, title), intro ? h("p", { class: "intro" }, intro) : null),
    actions.length > 0 ? h("div", { class: "page-actions" }, ...actions) : null,
  );
}

export function badge(text: string, kind: string, testId?: string): HTMLElement {
  return h("span", { class: `badge badge-${kind}`, attrs: { "data-testid": testId } }, text.replace(/_/g, " "));
}
