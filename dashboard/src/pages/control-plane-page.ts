import type { AuditEntry } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { pageHeader } from "../ui/page-header";
import { empty, errorBox, loading } from "../ui/states";
import { adminEntriesTable } from "./admin-entries-view";
import { headText, reportView, verifyView } from "./audit-view";
import type { Page, PageContext } from "./page";
import { openShareDialog } from "./share-report";

/**
 * The control-plane log: one entry per state-changing admin request (who, what, on what, before →
 * after), newest first, with the same verify and public report as a key's log. Auditors may use
 * all of it: verifying and reporting are reads.
 */

const PAGE_SIZE = 50;

export function controlPlanePage({ api }: PageContext): Page {
  const entriesBox = h("div", { class: "content", attrs: { "aria-live": "polite" } }, loading("Loading the control-plane log…"));
  const verifyBox = h("div", { class: "results", attrs: { "aria-live": "polite" } });
  const reportBox = h("div", { class: "results", attrs: { "aria-live": "polite" } });
  const head = h("p", { class: "muted wrap-anywhere", attrs: { "data-testid": "control-plane-head" } });
  const older = button("Load older", () => void loadOlder(), { attrs: { "data-testid": "control-plane-older" } });
  older.hidden = true;
  let entries: AuditEntry[] = [];
  /** Entries below this seq are not loaded yet (the API pages forward from `after`, so we page back from the head). */
  let below = 0;

  const draw = () =>
    render(
      entriesBox,
      entries.length === 0
        ? empty(
            "No admin actions recorded yet.",
            "Every key, provider key, price, provider, token or vault change made through the admin API is recorded here.",
          )
        : adminEntriesTable(entries, { testId: "control-plane-table", rowTestId: "control-plane-row", caption: "Control-plane log, newest first" }),
    );

  const loadOlder = async () => {
    const after = Math.max(0, below - 1 - PAGE_SIZE);
    const limit = below - 1 - after;
    if (limit <= 0) return;
    older.disabled = true;
    try {
      const page = await api.controlPlanePage(after, limit);
      entries = [...entries, ...[...page.data].reverse()];
      below = after + 1;
      older.hidden = after === 0;
      draw();
    } catch (error) {
      render(entriesBox, errorBox(error, "Could not load the control-plane log"));
    } finally {
      older.disabled = false;
    }
  };

  const load = async () => {
    render(entriesBox, loading("Loading the control-plane log…"));
    entries = [];
    try {
      const first = await api.controlPlanePage(null, 1);
      const headValue = headText(first.head);
      head.textContent = headValue ? `Chain head: ${headValue}` : "";
      below = (typeof first.head === "object" && first.head !== null ? Number((first.head as { seq?: unknown }).seq) || 0 : 0) + 1;
      if (below > 1) await loadOlder();
      else draw();
    } catch (error) {
      older.hidden = true;
      render(entriesBox, errorBox(error, "Could not load the control-plane log"));
    }
  };

  const verify = async () => {
    verifyButton.disabled = true;
    render(verifyBox, loading("Verifying the chain…"));
    try {
      render(verifyBox, verifyView(await api.verifyControlPlane()));
    } catch (error) {
      render(verifyBox, errorBox(error, "Verification failed to run"));
    } finally {
      verifyButton.disabled = false;
    }
  };

  const share = () =>
    openShareDialog((range) => {
      render(reportBox, loading("Creating the report…"));
      api.shareControlPlaneReport(range).then(
        (link) => render(reportBox, reportView(link)),
        (error: unknown) => render(reportBox, errorBox(error, "Could not create the report")),
      );
    });

  const verifyButton = button("Verify chain", () => void verify(), { class: "primary", attrs: { "data-testid": "verify-control-plane" } });
  void load();

  const el = h(
    "section",
    { class: "page" },
    pageHeader(
      "Control plane",
      "Every admin action, tamper-evident: HMAC-chained, in a Merkle tree with signed checkpoints, like a key's log.",
      button("Refresh", () => void load()),
    ),
    h("div", { class: "toolbar" }, verifyButton, button("Share a report", share, { attrs: { "data-testid": "share-control-plane" } })),
    verifyBox,
    reportBox,
    head,
    entriesBox,
    older,
  );
  return { el };
}
