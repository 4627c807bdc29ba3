import type { AuditEntry, ReportLink, VerifyResult } from "../api/schemas";
import { h } from "../lib/dom";
import { formatInt, formatTime, formatUsd, shortHash } from "../lib/format";
import { safeHttpUrl } from "../lib/safe-url";
import { copyButton } from "../ui/copy-button";
import { cell, dataTable, rowHeader } from "../ui/table";

/** Rendering for the audit page: entries table, chain head, verification result, report link. */

/** The chain head as text, whether the API gives a hash string or `{seq, hash}`. */
export function headText(head: unknown): string | null {
  if (typeof head === "string") return head;
  if (typeof head === "object" && head !== null) {
    const { seq, hash } = head as { seq?: unknown; hash?: unknown };
    if (typeof hash === "string") return typeof seq === "number" ? `seq ${seq} · ${hash}` : hash;
  }
  return null;
}

export function auditTable(entries: AuditEntry[]): HTMLElement {
  return dataTable({
    testId: "audit-table",
    caption: "Audit entries, oldest first",
    head: ["Seq", "Time", "Model", "Status", "Tokens (in / out)", "Cost", "Latency", "Hash"],
    rows: entries.map((e) =>
      h(
        "tr",
        { attrs: { "data-testid": "audit-row" } },
        rowHeader("Seq", String(e.seq)),
        cell("Time", formatTime(e.ts)),
        cell(
          "Model",
          // An admin entry (policy change) has no model: show what was done and by whom.
          e.kind === "admin" ? `${e.action ?? "?"} by ${e.actor ?? "?"}` : (e.model ?? "—"),
          e.endpoint && e.endpoint !== "chat" ? h("span", { class: "muted" }, ` · ${e.endpoint}`) : null,
          e.stream ? h("span", { class: "muted" }, " · stream") : null,
        ),
        cell("Status", String(e.status ?? "—"), e.count === undefined ? null : h("span", { class: "muted" }, ` × ${formatInt(e.count)}`)),
        cell("Tokens", `${formatInt(e.prompt_tokens ?? 0)} / ${formatInt(e.completion_tokens ?? 0)}`),
        cell("Cost", formatUsd((e.cost_micros ?? 0) / 1_000_000)),
        cell("Latency", e.latency_ms === undefined ? "—" : `${formatInt(e.latency_ms)} ms`),
        cell("Hash", h("code", { attrs: { title: e.hash } }, shortHash(e.hash))),
      ),
    ),
  });
}

export function verifyView(result: VerifyResult): HTMLElement {
  const head = headText(result.head);
  return h(
    "div",
    {
      class: `result ${result.valid ? "result-ok" : "result-bad"}`,
      attrs: { "data-testid": "verify-result", "data-valid": String(result.valid), role: "status" },
    },
    h("p", { class: "result-title" }, result.valid ? "✓ Chain verified" : "✗ Chain verification failed"),
    h(
      "p",
      {},
      result.valid
        ? `All ${formatInt(result.entries)} entries recompute to the stored hashes.`
        : `The chain breaks at seq ${result.first_invalid_seq ?? "?"} (${formatInt(result.entries)} entries checked).`,
    ),
    head ? h("p", { class: "muted" }, "Head: ", h("code", { class: "wrap" }, head)) : null,
  );
}

export function reportView(report: ReportLink): HTMLElement {
  const url = safeHttpUrl(report.url);
  if (url === null)
    return h("p", { class: "state state-error", attrs: { role: "alert" } }, "The gateway returned a report link that is not an http(s) URL; it is not shown.");
  const field = h("input", { class: "secret-value", attrs: { readonly: true, "aria-label": "Public report URL", "data-testid": "report-url" } });
  field.value = url;
  return h(
    "div",
    { class: "result result-ok", attrs: { "data-testid": "report-link", role: "status" } },
    h("p", { class: "result-title" }, "Public report created"),
    h("p", {}, "Anyone with this link can verify the entries in their browser, without an account:"),
    h(
      "div",
      { class: "secret-row" },
      field,
      copyButton(() => url, field, "Copy link"),
    ),
    h("p", {}, h("a", { attrs: { href: url, target: "_blank", rel: "noopener noreferrer", "data-testid": "report-open" } }, "Open the public report ↗")),
  );
}
