import { h } from "../lib/dom";
import { formatInt, formatUsd } from "../lib/format";
import type { LoadedReport } from "./load";

/** Read-only views of a report's contents; only what the checks above vouch for. */

interface Entry {
  seq: number;
  ts: number;
  model: string;
  provider: string;
  status: number | string;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micros: number;
  latency_ms: number;
  stream: boolean;
  /** Coalesced denials: how many requests the entry stands for. */
  count?: number;
  /** "admin": a control-plane action or a key's policy change (src/audit/canonical-json.ts). */
  kind?: string;
  actor?: string;
  action?: string;
  target?: string;
  change?: Record<string, { before: unknown; after: unknown }> | null;
}

const changeText = (change: Entry["change"]) =>
  change
    ? Object.entries(change)
        .map(([field, c]) => `${field}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`)
        .join("; ")
    : "";

/** An admin entry's row: the action, who, what, and the change, in the request columns' place. */
function adminRow(e: Entry): HTMLElement {
  return h(
    "tr",
    { class: "admin-entry" },
    h("td", {}, String(e.seq)),
    h("td", {}, new Date(e.ts).toISOString().replace("T", " ").slice(0, 19)),
    h("td", {}, `${e.action ?? "?"} ${e.target ?? ""}`),
    h("td", {}, `by ${e.actor ?? "?"}`),
    h("td", { attrs: { colspan: "3" } }, changeText(e.change)),
  );
}

/** A report entry: the exact JSON text that was hashed (v2), or an object (v1). */
function entryOf(entry: unknown): Entry[] {
  if (typeof entry === "string") {
    try {
      return [JSON.parse(entry) as Entry];
    } catch {
      return [];
    }
  }
  return entry && typeof entry === "object" ? [entry as Entry] : [];
}

function entriesOf(report: unknown): Entry[] {
  const entries = (report as { entries?: Array<{ entry?: unknown }> } | null)?.entries;
  return Array.isArray(entries) ? entries.flatMap((e) => entryOf(e?.entry)) : [];
}

export function summaryOf(loaded: LoadedReport): HTMLElement {
  const r = loaded.report as { key_id?: string; range?: { from_seq?: number; to_seq?: number }; origin?: string; verifier_key?: string } | null;
  const row = (label: string, value: string) => h("div", {}, h("dt", {}, label), h("dd", {}, h("code", {}, value)));
  return h(
    "section",
    {},
    h("h2", {}, "Report"),
    h(
      "dl",
      { class: "summary" },
      row("Report id", loaded.id),
      r?.key_id === "control-plane" ? row("Log", "control plane (admin actions)") : row("Virtual key", String(r?.key_id ?? "?")),
      row("Entries", `seq ${r?.range?.from_seq ?? "?"} to ${r?.range?.to_seq ?? "?"}`),
      row("Log origin", String(r?.origin ?? "?")),
      row("Trusted verifier keys", loaded.trustedKeys.join(", ") || "none published"),
      row("Size", `${formatInt(loaded.bytes)} bytes`),
    ),
    h(
      "p",
      { class: "muted" },
      "The verifier keys come from this gateway's /.well-known/keyforge/audit-keys. If you hold a copy of the key from elsewhere, compare it; the offline CLI (npx keyforge-verify) checks the same report.",
    ),
  );
}

export function entriesTable(report: unknown): HTMLElement {
  const entries = entriesOf(report);
  const head = ["Seq", "Time (UTC)", "Model", "Status", "Tokens in / out", "Cost", "Latency"];
  return h(
    "section",
    {},
    h("h2", {}, `Entries (${entries.length})`),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data-table" },
        h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { attrs: { scope: "col" } }, c)))),
        h(
          "tbody",
          {},
          ...entries.map((e) =>
            e.kind === "admin"
              ? adminRow(e)
              : h(
                  "tr",
                  {},
                  h("td", {}, String(e.seq)),
                  h("td", {}, new Date(e.ts).toISOString().replace("T", " ").slice(0, 19)),
                  h("td", {}, `${e.model}${e.stream ? " (stream)" : ""}`),
                  h("td", {}, e.count === undefined ? String(e.status) : `${e.status} × ${formatInt(e.count)}`),
                  h("td", {}, `${formatInt(e.prompt_tokens)} / ${formatInt(e.completion_tokens)}`),
                  h("td", {}, formatUsd(e.cost_micros / 1_000_000)),
                  h("td", {}, `${formatInt(e.latency_ms)} ms`),
                ),
          ),
        ),
      ),
    ),
  );
}
