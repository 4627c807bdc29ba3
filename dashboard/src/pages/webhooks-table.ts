import type { Webhook, WebhookDelivery } from "../api/webhooks-api";
import { button, h } from "../lib/dom";
import { formatDateTime } from "../lib/format";
import { badge } from "../ui/page-header";
import { cell, dataTable, rowHeader } from "../ui/table";

/** Webhooks with enable/disable/delete and a button that shows their deliveries. */

export interface WebhookActions {
  showDeliveries: (hook: Webhook) => void;
  setEnabled: (hook: Webhook, enabled: boolean) => void;
  remove: (hook: Webhook) => void;
}

function row(hook: Webhook, actions: WebhookActions): HTMLTableRowElement {
  const label = `webhook ${hook.url}`;
  return h(
    "tr",
    { attrs: { "data-testid": "webhook-row", "data-webhook-id": hook.id } },
    rowHeader("URL", h("code", {}, hook.url)),
    cell("Events", h("ul", { class: "plain-list" }, ...hook.events.map((e) => h("li", {}, h("code", {}, e))))),
    cell("State", badge(hook.enabled ? "enabled" : "disabled", hook.enabled ? "ok" : "neutral", "webhook-state")),
    cell("Added", formatDateTime(hook.created_at)),
    cell(
      "Actions",
      h(
        "div",
        { class: "row-actions" },
        button("Deliveries", () => actions.showDeliveries(hook), { attrs: { "aria-label": `Deliveries of ${label}` } }),
        hook.enabled
          ? button("Disable", () => actions.setEnabled(hook, false), { attrs: { "aria-label": `Disable ${label}`, "data-write": true } })
          : button("Enable", () => actions.setEnabled(hook, true), { class: "primary", attrs: { "aria-label": `Enable ${label}`, "data-write": true } }),
        button("Delete", () => actions.remove(hook), { class: "danger", attrs: { "aria-label": `Delete ${label}`, "data-write": true } }),
      ),
    ),
  );
}

export function webhooksTable(hooks: Webhook[], actions: WebhookActions): HTMLElement {
  const head = ["URL", "Events", "State", "Added", "Actions"];
  return dataTable({ testId: "webhooks-table", caption: "Alert webhooks", head, rows: hooks.map((hook) => row(hook, actions)) });
}

const STATE_KIND: Record<string, string> = { delivered: "ok", pending: "warn", failed: "bad" };

/** Delivery state only: the gateway never stores what the receiver answered, just its status. */
export function deliveriesTable(deliveries: WebhookDelivery[]): HTMLElement {
  const rows = deliveries.map((d) =>
    h(
      "tr",
      { attrs: { "data-testid": "delivery-row" } },
      rowHeader("Event", h("code", {}, d.event_type)),
      cell("State", badge(d.state, STATE_KIND[d.state] ?? "neutral", "delivery-state")),
      cell("Attempts", String(d.attempts)),
      cell("Last status", d.last_status === null ? h("span", { class: "muted" }, d.last_error ?? "—") : String(d.last_status)),
      cell("Next attempt", d.next_attempt_at ? formatDateTime(d.next_attempt_at) : h("span", { class: "muted" }, "—")),
      cell("Created", formatDateTime(d.created_at)),
    ),
  );
  const head = ["Event", "State", "Attempts", "Last status", "Next attempt", "Created"];
  return dataTable({ testId: "deliveries-table", caption: "Recent deliveries", head, rows });
}
