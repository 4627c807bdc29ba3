import { isNotFound } from "../api/client";
import type { AuditEntry } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { routeHref } from "../lib/router";
import { pageHeader } from "../ui/page-header";
import { empty, errorBox, loading } from "../ui/states";
import { adminEntriesTable } from "./admin-entries-view";
import type { Page, PageContext } from "./page";

/**
 * A key's policy history: the admin entries of its own log (patched with the diff, revoked, rotated,
 * expired), newest first. The log holds requests too and has no filter, so it is scanned in pages.
 */

const SCAN_PAGE = 500;
const PAGES_PER_SCAN = 10;

export function keyHistoryPage({ api, route }: PageContext): Page {
  const keyId = route.page === "history" ? route.keyId : "";
  const box = h("div", { class: "content", attrs: { "aria-live": "polite" } }, loading("Reading the key's log…"));
  const further = button("Scan further", () => void scan(), { attrs: { "data-testid": "history-more" } });
  further.hidden = true;
  const title = h("span", {}, keyId);
  let changes: AuditEntry[] = [];
  let after = 0;

  const draw = () =>
    render(
      box,
      changes.length === 0
        ? empty(
            "No policy changes in this key's log yet.",
            h(
              "span",
              {},
              "A key's log starts at its first use, which copies its creation and any change before then from the ",
              h("a", { attrs: { href: routeHref({ page: "control-plane" }) } }, "Control plane"),
              " log (where they are until then).",
            ),
          )
        : adminEntriesTable([...changes].reverse(), { testId: "history-table", rowTestId: "history-row", caption: "Policy changes, newest first" }),
    );

  const scan = async () => {
    further.disabled = true;
    try {
      let more = true;
      for (let i = 0; i < PAGES_PER_SCAN && more; i++) {
        const page = await api.auditPage(keyId, after, SCAN_PAGE);
        changes = [...changes, ...page.data.filter((e) => e.kind === "admin")];
        after = page.data.at(-1)?.seq ?? after;
        more = page.has_more === true && page.data.length > 0;
      }
      further.hidden = !more;
      draw();
    } catch (error) {
      further.hidden = true;
      render(box, isNotFound(error) ? empty("No such key.") : errorBox(error, "Could not read the key's log"));
    } finally {
      further.disabled = false;
    }
  };

  void api.listKeys().then(
    (keys) => {
      const key = keys.find((k) => k.id === keyId);
      if (key) title.textContent = key.name;
    },
    () => undefined,
  );
  void scan();

  const el = h(
    "section",
    { class: "page" },
    pageHeader(
      "Policy history",
      h("span", {}, "Changes to ", title, " recorded in its own audit log, with who made them and what changed."),
      h("a", { class: "button-link", attrs: { href: routeHref({ page: "audit", keyId }) } }, "Full audit log"),
    ),
    box,
    further,
  );
  return { el };
}
