import type { AdminToken } from "../api/control-plane-api";
import { button, h, render } from "../lib/dom";
import { formatTime } from "../lib/format";
import { confirmDialog } from "../ui/dialog";
import { badge, pageHeader } from "../ui/page-header";
import { empty, errorBox, loading } from "../ui/states";
import { cell, dataTable, rowHeader } from "../ui/table";
import { toast } from "../ui/toast";
import { openAdminTokenForm, showCreatedAdminToken } from "./admin-token-form";
import type { Page, PageContext } from "./page";

/** Named admin tokens: list (no secrets), create (token shown once), revoke. Write buttons are `data-write`. */

function tokensTable(tokens: AdminToken[], revoke: (t: AdminToken) => void): HTMLElement {
  const rows = tokens.map((t) =>
    h(
      "tr",
      { attrs: { "data-testid": "admin-token-row", "data-token-id": t.id } },
      rowHeader("Name", t.name),
      cell("Role", badge(t.role, t.role === "admin" ? "warn" : "neutral", "admin-token-role")),
      cell("Token", h("code", {}, `kfa_${t.id}…${t.last4}`)),
      cell("Created", `${formatTime(t.created_at)} by ${t.created_by}`),
      cell("Status", t.revoked_at === null ? badge("active", "ok", "admin-token-status") : badge("revoked", "bad", "admin-token-status")),
      cell(
        "Actions",
        t.revoked_at === null
          ? button("Revoke", () => revoke(t), { class: "danger", attrs: { "aria-label": `Revoke admin token ${t.name}`, "data-write": true } })
          : h("span", { class: "muted" }, `since ${formatTime(t.revoked_at)}`),
      ),
    ),
  );
  const head = ["Name", "Role", "Token", "Created", "Status", "Actions"];
  return dataTable({ testId: "admin-tokens-table", caption: "Named admin tokens", head, rows });
}

export function adminTokensPage({ api }: PageContext): Page {
  const box = h("div", { class: "content", attrs: { "aria-live": "polite" } }, loading("Loading admin tokens…"));

  const load = async () => {
    try {
      const tokens = await api.listAdminTokens();
      render(
        box,
        tokens.length === 0
          ? empty(
              "No named admin tokens yet.",
              'ADMIN_TOKEN is the built-in admin (actor "root"). Give each person or system its own token so the control-plane log names them.',
            )
          : tokensTable(tokens, (t) => void revoke(t)),
      );
    } catch (error) {
      render(box, errorBox(error, "Could not load admin tokens"));
    }
  };

  const revoke = async (token: AdminToken) => {
    const ok = await confirmDialog({
      title: `Revoke "${token.name}"?`,
      message: "Requests with this token are refused from now on (within 30 s on every gateway instance). The name stays taken.",
      confirmLabel: "Revoke token",
      danger: true,
      testId: "confirm-revoke-admin-token",
    });
    if (!ok) return;
    try {
      await api.revokeAdminToken(token.id);
      toast(`Admin token "${token.name}" revoked.`);
    } catch (error) {
      render(box, errorBox(error, "Could not revoke the token"));
      return;
    }
    await load();
  };

  const create = () => openAdminTokenForm(api, (created) => showCreatedAdminToken(created, () => void load()));
  void load();

  const el = h(
    "section",
    { class: "page" },
    pageHeader(
      "Admin tokens",
      "Named tokens for the admin API and this dashboard. Admins change things; auditors read everything, verify logs and share reports.",
      button("Refresh", () => void load()),
      button("Create token", create, { class: "primary", attrs: { "data-testid": "create-admin-token", "data-write": true } }),
    ),
    box,
  );
  return { el };
}
