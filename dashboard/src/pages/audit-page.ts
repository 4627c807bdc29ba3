import { isNotFound } from "../api/client";
import type { AuditEntry, VirtualKey } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { navigate } from "../lib/router";
import { selectField } from "../ui/fields";
import { pageHeader } from "../ui/page-header";
import { empty, errorBox, loading } from "../ui/states";
import { auditTable, headText, reportView, verifyView } from "./audit-view";
import type { Page, PageContext } from "./page";
import { openShareDialog } from "./share-report";

/** A key's tamper-evident audit chain: entries (paged), verification, shareable public report. */

const PAGE_SIZE = 50;

function unavailable(error: unknown): HTMLElement {
  return h(
    "div",
    { class: "state state-empty", attrs: { "data-testid": "audit-unavailable" } },
    h("p", { class: "state-title" }, "The audit log is not available on this gateway yet."),
    errorBox(error, "The gateway answered 404"),
  );
}

export function auditPage({ api, route }: PageContext): Page {
  const keyId = route.page === "audit" ? route.keyId : null;
  const picker = selectField("Virtual key", "audit-key", [{ value: "", label: "Choose a key…" }]);
  const entriesBox = h("div", { class: "content" });
  const verifyBox = h("div", { class: "results", attrs: { "aria-live": "polite" } });
  const reportBox = h("div", { class: "results", attrs: { "aria-live": "polite" } });
  const head = h("p", { class: "muted wrap-anywhere", attrs: { "data-testid": "audit-head" } });
  const more = button("Load more", () => void loadPage(), { attrs: { "data-testid": "audit-more" } });
  more.hidden = true;
  let entries: AuditEntry[] = [];

  const loadPage = async () => {
    if (!keyId) return;
    const after = entries.length > 0 ? (entries[entries.length - 1]?.seq ?? null) : null;
    if (after === null) render(entriesBox, loading("Loading audit entries…"));
    more.disabled = true;
    try {
      const page = await api.auditPage(keyId, after, PAGE_SIZE);
      entries = [...entries, ...page.data];
      const headValue = headText(page.head);
      head.textContent = headValue ? `Chain head: ${headValue}` : "";
      render(entriesBox, entries.length === 0 ? empty("No audit entries yet.", "Every request made with this key is recorded here.") : auditTable(entries));
      more.hidden = page.data.length < PAGE_SIZE;
    } catch (error) {
      more.hidden = true;
      render(entriesBox, isNotFound(error) ? unavailable(error) : errorBox(error, "Could not load the audit log"));
    } finally {
      more.disabled = false;
    }
  };

  const verify = async (btn: HTMLButtonElement) => {
    if (!keyId) return;
    btn.disabled = true;
    render(verifyBox, loading("Verifying the chain…"));
    try {
      render(verifyBox, verifyView(await api.verifyAudit(keyId)));
    } catch (error) {
      render(verifyBox, isNotFound(error) ? unavailable(error) : errorBox(error, "Verification failed to run"));
    } finally {
      btn.disabled = false;
    }
  };

  const share = () => {
    if (!keyId) return;
    openShareDialog((range) => {
      render(reportBox, loading("Creating the report…"));
      api.shareReport(keyId, range).then(
        (link) => render(reportBox, reportView(link)),
        (error: unknown) => render(reportBox, isNotFound(error) ? unavailable(error) : errorBox(error, "Could not create the report")),
      );
    });
  };

  picker.select.addEventListener("change", () => navigate({ page: "audit", keyId: picker.select.value || null }));
  void api.listKeys().then(
    (keys: VirtualKey[]) => {
      render(
        picker.select,
        h("option", { attrs: { value: "" } }, "Choose a key…"),
        ...keys.map((k) => h("option", { attrs: { value: k.id } }, `${k.name} (${k.status})`)),
      );
      picker.select.value = keyId ?? "";
    },
    () => undefined,
  );

  const verifyButton = button("Verify chain", () => void verify(verifyButton), { class: "primary", attrs: { "data-testid": "verify-chain" } });
  const actions = keyId ? h("div", { class: "toolbar" }, verifyButton, button("Share report", share, { attrs: { "data-testid": "share-report" } })) : null;
  if (keyId) void loadPage();
  else render(entriesBox, empty("Choose a key to see its audit chain.", "Every request by a virtual key is HMAC-chained to the one before it."));

  const el = h(
    "section",
    { class: "page" },
    pageHeader("Audit log", "Tamper-evident: each entry is HMAC-chained to the previous one from a per-key genesis hash."),
    h("div", { class: "toolbar" }, picker.wrap),
    actions,
    verifyBox,
    reportBox,
    head,
    entriesBox,
    more,
  );
  return { el };
}
