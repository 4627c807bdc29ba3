import type { VirtualKey } from "../api/schemas";
import { button, h, type Child } from "../lib/dom";
import { formatDateTime, formatInt, formatUsd } from "../lib/format";
import { routeHref } from "../lib/router";
import { badge } from "../ui/page-header";
import { cell, dataTable, rowHeader } from "../ui/table";
import { usageBar } from "../ui/usage-bar";

/** The virtual keys table: sortable headers (aria-sort), usage meters, row actions. */

export type SortKey = "name" | "status" | "tokens" | "spend" | "created";
export interface SortState {
  key: SortKey;
  dir: "asc" | "desc";
}

export interface RowActions {
  edit: (key: VirtualKey) => void;
  revoke: (key: VirtualKey) => void;
}

const COLUMNS: Array<{ label: string; sort?: SortKey }> = [
  { label: "Name", sort: "name" },
  { label: "Status", sort: "status" },
  { label: "Policy" },
  { label: "Tokens this month", sort: "tokens" },
  { label: "Spend this month", sort: "spend" },
  { label: "Created", sort: "created" },
  { label: "Actions" },
];

const value = (key: VirtualKey, sort: SortKey): string | number => {
  switch (sort) {
    case "name":
      return key.name.toLowerCase();
    case "status":
      return key.status;
    case "tokens":
      return key.usage?.tokens ?? 0;
    case "spend":
      return key.usage?.spend_usd ?? 0;
    case "created":
      return key.created_at ?? "";
  }
};

export function sortKeys(keys: VirtualKey[], sort: SortState): VirtualKey[] {
  const sign = sort.dir === "asc" ? 1 : -1;
  return [...keys].sort((a, b) => {
    const x = value(a, sort.key);
    const y = value(b, sort.key);
    return (x < y ? -1 : x > y ? 1 : 0) * sign || a.id.localeCompare(b.id);
  });
}

export function matchesSearch(key: VirtualKey, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === "") return true;
  return [key.name, key.id, key.display, key.status, ...key.models].some((field) => field.toLowerCase().includes(q));
}

function policyCell(key: VirtualKey): Child {
  const rate = [key.rpm === null ? null : `RPM ${formatInt(key.rpm)}`, key.tpm === null ? null : `TPM ${formatInt(key.tpm)}`].filter(Boolean).join(" · ");
  return h(
    "div",
    { class: "policy" },
    h("span", {}, key.models.length === 0 ? "All models" : key.models.join(", ")),
    h("span", { class: "muted", attrs: { "data-testid": "key-rate" } }, rate || "No rate limit"),
    key.expires_at ? h("span", { class: "muted" }, `Expires ${formatDateTime(key.expires_at)}`) : null,
  );
}

function row(key: VirtualKey, actions: RowActions): HTMLTableRowElement {
  const kind = key.status === "active" ? "ok" : key.status === "revoked" ? "bad" : "warn";
  return h(
    "tr",
    { attrs: { "data-testid": "key-row", "data-key-id": key.id } },
    rowHeader("Name", h("span", { class: "key-name" }, key.name), h("code", { class: "key-display" }, key.display)),
    cell("Status", badge(key.status, kind, "key-status")),
    cell("Policy", policyCell(key)),
    cell("Tokens", usageBar(`Tokens used of monthly quota for ${key.name}`, key.usage?.tokens ?? 0, key.monthly_token_quota, formatInt, "key-tokens")),
    cell("Spend", usageBar(`Spend of monthly cap for ${key.name}`, key.usage?.spend_usd ?? 0, key.spend_cap_usd, formatUsd, "key-spend")),
    cell("Created", formatDateTime(key.created_at)),
    cell(
      "Actions",
      h(
        "div",
        { class: "row-actions" },
        key.status === "revoked"
          ? null
          : button("Edit", () => actions.edit(key), { attrs: { "aria-label": `Edit policy of ${key.name}`, "data-write": true } }),
        h("a", { class: "button-link", attrs: { href: routeHref({ page: "usage", keyId: key.id }), "aria-label": `Usage of ${key.name}` } }, "Usage"),
        h("a", { class: "button-link", attrs: { href: routeHref({ page: "audit", keyId: key.id }), "aria-label": `Audit log of ${key.name}` } }, "Audit"),
        h(
          "a",
          { class: "button-link", attrs: { href: routeHref({ page: "history", keyId: key.id }), "aria-label": `Policy history of ${key.name}` } },
          "History",
        ),
        key.status === "revoked"
          ? null
          : button("Revoke", () => actions.revoke(key), { class: "danger", attrs: { "aria-label": `Revoke ${key.name}`, "data-write": true } }),
      ),
    ),
  );
}

export function keysTable(keys: VirtualKey[], sort: SortState, onSort: (key: SortKey) => void, actions: RowActions): HTMLElement {
  const head = COLUMNS.map((col) => {
    if (!col.sort) return h("th", { attrs: { scope: "col" } }, col.label);
    const active = sort.key === col.sort;
    const sortKey = col.sort;
    return h(
      "th",
      { attrs: { scope: "col", "aria-sort": active ? (sort.dir === "asc" ? "ascending" : "descending") : "none" } },
      button([col.label, active ? (sort.dir === "asc" ? " ▲" : " ▼") : ""].join(""), () => onSort(sortKey), { class: "sort-button" }),
    );
  });
  return dataTable({ testId: "keys-table", caption: "Virtual keys, with this month's usage", head, rows: keys.map((key) => row(key, actions)) });
}
