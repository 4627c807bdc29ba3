import type { AuditEntry } from "../api/schemas";
import { h, type Child } from "../lib/dom";
import { formatTime, shortHash } from "../lib/format";
import { cell, dataTable, rowHeader } from "../ui/table";

/**
 * Admin entries (control-plane log, a key's policy history): who did what to what, and the change
 * as before → after per field. Values are shown as text, never as markup.
 */

const MAX_VALUE = 80;

function valueText(field: string, value: unknown): string {
  if (value === null || value === undefined) return "—";
  // Times in entries are unix milliseconds (expires_at, revoked_at, previous_secret_until…).
  if (typeof value === "number" && /(_at|_until)$/.test(field)) return new Date(value).toISOString().replace(".000Z", "Z");
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

export function changeList(change: AuditEntry["change"]): Child {
  if (!change) return h("span", { class: "muted" }, "—");
  return h(
    "ul",
    { class: "plain-list change-list" },
    ...Object.entries(change).map(([field, { before, after }]) =>
      h("li", {}, h("code", {}, field), ": ", valueText(field, before), " → ", h("strong", {}, valueText(field, after))),
    ),
  );
}

export function adminEntriesTable(entries: AuditEntry[], options: { testId: string; rowTestId: string; caption: string }): HTMLElement {
  return dataTable({
    testId: options.testId,
    caption: options.caption,
    head: ["Seq", "Time", "Actor", "Action", "Target", "Change", "Hash"],
    rows: entries.map((e) =>
      h(
        "tr",
        { attrs: { "data-testid": options.rowTestId, "data-seq": e.seq } },
        rowHeader("Seq", String(e.seq)),
        cell("Time", h("time", { attrs: { datetime: new Date(e.ts).toISOString() } }, formatTime(e.ts))),
        cell("Actor", h("span", { attrs: { "data-testid": "entry-actor" } }, e.actor ?? "—")),
        cell("Action", h("code", {}, e.action ?? "—"), e.ref_seq === undefined ? null : h("span", { class: "muted" }, ` (seq ${e.ref_seq})`)),
        cell("Target", e.target ? h("code", { class: "wrap-anywhere" }, e.target) : h("span", { class: "muted" }, "—")),
        cell("Change", changeList(e.change)),
        cell("Hash", h("code", { attrs: { title: e.hash } }, shortHash(e.hash))),
      ),
    ),
  });
}
