import type { Webhook } from "../api/webhooks-api";
import { button, h, render } from "../lib/dom";
import { userIsBusyIn } from "../ui/busy";
import { confirmDialog, openDialog } from "../ui/dialog";
import { pageHeader } from "../ui/page-header";
import { every } from "../ui/poller";
import { empty, errorBox, loading } from "../ui/states";
import { toast } from "../ui/toast";
import type { Page, PageContext } from "./page";
import { openWebhookForm, showCreatedSecret } from "./webhook-form";
import { deliveriesTable, webhooksTable } from "./webhooks-table";

/** Alert webhooks: add (secret shown once), list, enable/disable/delete, recent deliveries. */

const REFRESH_MS = 10_000;

export function webhooksPage({ api }: PageContext): Page {
  const box = h("div", { class: "content", attrs: { "aria-live": "polite" } }, loading("Loading webhooks…"));

  const load = async () => {
    try {
      const hooks = await api.listWebhooks();
      render(
        box,
        hooks.length === 0
          ? empty("No webhooks yet.", "Add one to hear about spend limits, revoked keys and provider key trouble as it happens.")
          : webhooksTable(hooks, { showDeliveries, setEnabled, remove }),
      );
    } catch (error) {
      render(box, errorBox(error, "Could not load webhooks"));
    }
  };

  const showDeliveries = (hook: Webhook) => {
    const content = h("div", { class: "content" }, loading("Loading deliveries…"));
    const refresh = async () => {
      try {
        const detail = await api.getWebhook(hook.id);
        render(content, detail.deliveries.length === 0 ? empty("No deliveries yet.") : deliveriesTable(detail.deliveries));
      } catch (error) {
        render(content, errorBox(error, "Could not load deliveries"));
      }
    };
    openDialog({ title: `Deliveries to ${hook.url}`, testId: "webhook-deliveries" }, (handle) => [
      h("p", { class: "muted" }, "The 50 most recent. Failed attempts are retried after 5 s, 30 s, 2 min, 10 min, 1 h and 6 h, then marked failed."),
      content,
      h(
        "div",
        { class: "dialog-actions" },
        button("Refresh", () => void refresh()),
        button("Close", handle.close, { class: "primary" }),
      ),
    ]);
    void refresh();
  };

  const setEnabled = async (hook: Webhook, enabled: boolean) => {
    try {
      await api.updateWebhook(hook.id, { enabled });
      toast(`Webhook ${enabled ? "enabled" : "disabled"}.`);
    } catch (error) {
      render(box, errorBox(error, `Could not ${enabled ? "enable" : "disable"} the webhook`));
      return;
    }
    await load();
  };

  const remove = async (hook: Webhook) => {
    const ok = await confirmDialog({
      title: "Delete this webhook?",
      message: `Alerts stop going to ${hook.url}, and its pending deliveries are dropped.`,
      confirmLabel: "Delete webhook",
      danger: true,
      testId: "confirm-delete-webhook",
    });
    if (!ok) return;
    try {
      await api.deleteWebhook(hook.id);
      toast("Webhook deleted.");
    } catch (error) {
      render(box, errorBox(error, "Could not delete the webhook"));
      return;
    }
    await load();
  };

  const add = () => openWebhookForm(api, (created) => showCreatedSecret(created, () => void load()));

  void load();
  const stopPoll = every(REFRESH_MS, () => {
    if (!userIsBusyIn(box)) void load();
  });

  const el = h(
    "section",
    { class: "page" },
    pageHeader(
      "Webhooks",
      "Signed alerts (Standard Webhooks) when a key nears its limits, is revoked or expires, a provider key cools down or is disabled, or an audit check fails.",
      button("Refresh", () => void load()),
      button("Add webhook", add, { class: "primary", attrs: { "data-testid": "add-webhook", "data-write": true } }),
    ),
    box,
  );
  return { el, dispose: stopPoll };
}
