import { ApiError } from "../api/client";
import { h, type Child } from "../lib/dom";

/** Loading, empty and error states, the same everywhere. */

export function loading(label = "Loading…"): HTMLElement {
  return h(
    "p",
    { class: "state state-loading", attrs: { role: "status", "aria-live": "polite" } },
    h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }),
    label,
  );
}

export function empty(title: string, hint?: Child): HTMLElement {
  return h("div", { class: "state state-empty" }, h("p", { class: "state-title" }, title), hint ? h("p", {}, hint) : null);
}

/** An error with the gateway's message and request id (for support), rendered as text. */
export function errorBox(error: unknown, context?: string): HTMLElement {
  const api = error instanceof ApiError ? error : null;
  const message = api ? api.message : error instanceof Error ? error.message : "Something went wrong.";
  return h(
    "div",
    { class: "state state-error", attrs: { role: "alert", "data-testid": "error" } },
    h("p", { class: "state-title" }, context ?? "Request failed"),
    h("p", { class: "error-message" }, message),
    api && api.code !== "http_error" ? h("p", { class: "muted" }, "Code: ", h("code", {}, api.code)) : null,
    api?.requestId ? h("p", { class: "muted" }, "Request id: ", h("code", { attrs: { "data-testid": "request-id" } }, api.requestId)) : null,
  );
}
