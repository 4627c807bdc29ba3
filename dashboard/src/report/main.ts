import "../styles.css";
import "./report.css";
import { verifyReportText, type ReportVerification } from "../../../src/audit/report-verify";
import { h, render } from "../lib/dom";
import { brandMark } from "../ui/brand";
import { loading } from "../ui/states";
import { loadReport, reportIdFrom, type LoadedReport } from "./load";
import { entriesTable, summaryOf } from "./report-view";

/**
 * The public verification page of an audit report. Everything is checked here, in the browser,
 * with Web Crypto and the same verification code as the gateway and the CLI: the checkpoint's
 * Ed25519 signature against the published verifier keys, every entry's leaf hash, the Merkle range
 * proof against the signed root, the gateway's signature over the report as a whole (so a report cut
 * short at either end fails), and consistency with an earlier checkpoint when the report has one.
 */

const root = document.getElementById("report");
if (!root) throw new Error("#report is missing from report.html");

function header(): HTMLElement {
  return h(
    "header",
    { class: "report-header" },
    h("span", { class: "brand" }, brandMark(), " KeyForge"),
    h("span", { class: "muted" }, "Audit report verification"),
  );
}

function verdict(result: ReportVerification): HTMLElement {
  return h(
    "section",
    { class: `verdict ${result.ok ? "verdict-ok" : "verdict-bad"}`, attrs: { role: "status", "data-testid": "verdict", "data-ok": String(result.ok) } },
    h("h1", {}, result.ok ? "✓ Verified" : "✗ Verification failed"),
    h("p", {}, result.ok ? "Every check below passed in this browser." : "At least one check failed: do not trust this report."),
  );
}

function checklist(result: ReportVerification): HTMLElement {
  return h(
    "section",
    {},
    h("h2", {}, "What was checked"),
    h(
      "ol",
      { class: "checks", attrs: { "data-testid": "checks" } },
      ...result.checks.map((c) =>
        h(
          "li",
          { class: c.ok ? "check-ok" : "check-bad", attrs: { "data-testid": "check", "data-ok": String(c.ok) } },
          h("strong", {}, `${c.ok ? "✓" : "✗"} ${c.name}`),
          " — ",
          c.detail,
        ),
      ),
    ),
  );
}

async function main(): Promise<void> {
  render(root!, header(), loading("Verifying the report in your browser…"));
  const id = reportIdFrom(location.pathname);
  let loaded: LoadedReport;
  try {
    if (!id) throw new Error("This address does not name a report.");
    loaded = await loadReport(id);
  } catch (error) {
    render(
      root!,
      header(),
      h(
        "p",
        { class: "state state-error", attrs: { role: "alert", "data-testid": "error" } },
        error instanceof Error ? error.message : "Could not load the report.",
      ),
    );
    return;
  }
  // The signed report id must be the one in the address: a report cannot stand in for another.
  const result = await verifyReportText(loaded.text, loaded.trustedKeys, { reportId: loaded.id });
  render(root!, header(), verdict(result), summaryOf(loaded), checklist(result), entriesTable(loaded.report));
}

void main();
