import type { KeyPolicyInput } from "../api/admin-api";
import type { CreatedKey, VirtualKey } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { userIsBusyIn } from "../ui/busy";
import { confirmDialog } from "../ui/dialog";
import { inputField, selectField } from "../ui/fields";
import { pageHeader } from "../ui/page-header";
import { every } from "../ui/poller";
import { empty, errorBox, loading } from "../ui/states";
import { toast } from "../ui/toast";
import { showCreatedKey } from "./key-created";
import { openKeyForm } from "./key-form";
import { keysTable, matchesSearch, sortKeys, type SortKey, type SortState } from "./keys-table";
import type { Page, PageContext } from "./page";

/** Virtual keys: list with usage, search, sort, create (token shown once), edit policy, revoke. */

const REFRESH_MS = 15_000;

/** Create input without the empty fields (null limits, no models, no metadata). */
function pruned(input: KeyPolicyInput & { name: string }): KeyPolicyInput & { name: string } {
  const out: KeyPolicyInput & { name: string } = { name: input.name };
  if (input.models?.length) out.models = input.models;
  if (input.monthly_token_quota != null) out.monthly_token_quota = input.monthly_token_quota;
  if (input.spend_cap_usd != null) out.spend_cap_usd = input.spend_cap_usd;
  if (input.rpm != null) out.rpm = input.rpm;
  if (input.tpm != null) out.tpm = input.tpm;
  if (input.expires_at != null) out.expires_at = input.expires_at;
  if (input.metadata && Object.keys(input.metadata).length > 0) out.metadata = input.metadata;
  return out;
}

export function keysPage({ api }: PageContext): Page {
  let keys: VirtualKey[] | null = null;
  let sort: SortState = { key: "created", dir: "desc" };
  const content = h("div", { class: "content", attrs: { "aria-live": "polite", "aria-busy": "true" } }, loading("Loading keys…"));
  const search = inputField({ label: "Search", name: "search", placeholder: "Name, id, model…" });
  search.input.type = "search";
  const statusFilter = selectField("Status", "status", [
    { value: "", label: "All" },
    { value: "active", label: "Active" },
    { value: "revoked", label: "Revoked" },
    { value: "expired", label: "Expired" },
  ]);

  const draw = () => {
    if (keys === null) return;
    content.setAttribute("aria-busy", "false");
    if (keys.length === 0) {
      render(content, empty("No virtual keys yet.", "Create one to give an agent its own revocable key with limits."));
      return;
    }
    const shown = sortKeys(
      keys.filter((k) => matchesSearch(k, search.input.value) && (statusFilter.select.value === "" || k.status === statusFilter.select.value)),
      sort,
    );
    render(
      content,
      h("p", { class: "muted count", attrs: { "data-testid": "keys-count" } }, `${shown.length} of ${keys.length} keys`),
      shown.length === 0 ? empty("No key matches the search.") : keysTable(shown, sort, onSort, { edit, revoke }),
    );
  };
  const onSort = (key: SortKey) => {
    sort = { key, dir: sort.key === key && sort.dir === "asc" ? "desc" : "asc" };
    draw();
    content.querySelector<HTMLElement>("th[aria-sort]:not([aria-sort='none']) button")?.focus();
  };
  const load = async (showSpinner = false) => {
    if (showSpinner) render(content, loading("Loading keys…"));
    try {
      keys = await api.listKeys();
      draw();
    } catch (error) {
      keys = null;
      content.setAttribute("aria-busy", "false");
      render(content, errorBox(error, "Could not load virtual keys"));
    }
  };

  const create = () => {
    let created: CreatedKey | null = null;
    openKeyForm({
      title: "Create virtual key",
      submitLabel: "Create key",
      submit: async (input) => {
        created = await api.createKey(pruned(input));
      },
      onClosed: () => {
        if (created) showCreatedKey(created, () => void load());
      },
    });
  };
  const edit = (key: VirtualKey) =>
    openKeyForm({
      title: `Edit policy: ${key.name}`,
      submitLabel: "Save policy",
      initial: key,
      submit: async (_input, changed) => {
        if (Object.keys(changed).length === 0) {
          toast("No changes to save.");
          return;
        }
        await api.updateKey(key.id, changed);
        toast(`Policy of "${key.name}" saved. It applies from the next request.`);
        await load();
      },
    });
  const revoke = async (key: VirtualKey) => {
    const ok = await confirmDialog({
      title: `Revoke "${key.name}"?`,
      message: `Agents using ${key.display} get 401 key_revoked from their very next request. This cannot be undone.`,
      confirmLabel: "Revoke key",
      danger: true,
      testId: "confirm-revoke",
    });
    if (!ok) return;
    try {
      await api.revokeKey(key.id);
      toast(`Key "${key.name}" revoked.`);
    } catch (error) {
      render(content, errorBox(error, "Could not revoke the key"));
      return;
    }
    await load();
  };

  search.input.addEventListener("input", draw);
  statusFilter.select.addEventListener("change", draw);
  void load();
  // A background refresh must not pull the table out from under keyboard focus or an open dialog.
  const stop = every(REFRESH_MS, () => {
    if (!userIsBusyIn(content)) void load();
  });

  const el = h(
    "section",
    { class: "page" },
    pageHeader(
      "Virtual keys",
      "Each agent gets its own revocable vk_ key. Usage and limits are this calendar month's (UTC).",
      button("Refresh", () => void load(true)),
      button("Create key", create, { class: "primary", attrs: { "data-testid": "create-key", "data-write": true } }),
    ),
    h("div", { class: "toolbar", attrs: { role: "search" } }, search.wrap, statusFilter.wrap),
    content,
  );
  return { el, dispose: stop };
}
