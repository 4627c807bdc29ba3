import type { ProviderKey } from "../api/schemas";
import { button, h, type Child } from "../lib/dom";
import { formatDateTime, formatDuration } from "../lib/format";
import { badge } from "../ui/page-header";
import { cell, dataTable, rowHeader } from "../ui/table";

/**
 * Provider keys with live pool status. A cooling-down key shows a countdown (`data-cooldown-until`,
 * updated every second by the page). A disabled key (by an admin, or because its provider answered
 * 401/403) offers Enable; any other key offers Disable.
 */

export interface ProviderKeyActions {
  setEnabled: (key: ProviderKey, enabled: boolean) => void;
  remove: (key: ProviderKey) => void;
}

const STATUS_KIND: Record<string, string> = { healthy: "ok", cooling_down: "warn", disabled: "bad" };

export function cooldownText(until: string | null | undefined, now = Date.now()): string {
  const end = until ? Date.parse(until) : NaN;
  return Number.isNaN(end) ? "" : end > now ? `ready in ${formatDuration(end - now)}` : "ready now";
}

function statusCell(key: ProviderKey): Child {
  const countdown =
    key.status === "cooling_down" && key.cooldown_until
      ? h(
          "span",
          { class: "countdown muted", attrs: { "data-cooldown-until": key.cooldown_until, "data-testid": "cooldown" } },
          cooldownText(key.cooldown_until),
        )
      : null;
  return h("div", { class: "status-cell" }, badge(key.status, STATUS_KIND[key.status] ?? "neutral", "provider-key-status"), countdown);
}

function row(key: ProviderKey, actions: ProviderKeyActions): HTMLTableRowElement {
  const label = `${key.provider} key …${key.last4}`;
  const isEnv = key.source === "env";
  return h(
    "tr",
    { attrs: { "data-testid": "provider-key-row", "data-provider-key-id": key.id } },
    rowHeader("Provider", key.provider),
    cell("Name", key.name ?? h("span", { class: "muted" }, "—")),
    cell("Scope", key.scope ?? h("span", { class: "muted" }, "own scope")),
    cell("Key", h("code", {}, `…${key.last4}`), isEnv ? h("span", { class: "muted" }, " (environment secret)") : null),
    cell("Status", statusCell(key)),
    cell("Added", formatDateTime(key.created_at ?? null)),
    cell(
      "Actions",
      h(
        "div",
        { class: "row-actions" },
        key.status === "disabled"
          ? button("Enable", () => actions.setEnabled(key, true), { class: "primary", attrs: { "aria-label": `Enable ${label}`, "data-write": true } })
          : button("Disable", () => actions.setEnabled(key, false), { attrs: { "aria-label": `Disable ${label}`, "data-write": true } }),
        isEnv ? null : button("Delete", () => actions.remove(key), { class: "danger", attrs: { "aria-label": `Delete ${label}`, "data-write": true } }),
      ),
    ),
  );
}

export function providerKeysTable(keys: ProviderKey[], actions: ProviderKeyActions): HTMLElement {
  const head = ["Provider", "Name", "Scope", "Key", "Status", "Added", "Actions"];
  return dataTable({ testId: "provider-keys-table", caption: "Provider keys and their pool status", head, rows: keys.map((key) => row(key, actions)) });
}

/** Updates every countdown in `root`; true when one has just reached zero (time to reload). */
export function tickCountdowns(root: Element, now = Date.now()): boolean {
  let expired = false;
  for (const el of root.querySelectorAll<HTMLElement>("[data-cooldown-until]")) {
    const until = el.dataset.cooldownUntil ?? "";
    el.textContent = cooldownText(until, now);
    if (Date.parse(until) <= now && el.dataset.expired !== "1") {
      el.dataset.expired = "1";
      expired = true;
    }
  }
  return expired;
}
