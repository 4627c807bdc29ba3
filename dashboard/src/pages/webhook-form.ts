import type { AdminApi } from "../api/admin-api";
import { WEBHOOK_EVENTS, type CreatedWebhook } from "../api/webhooks-api";
import { button, h, render, uid } from "../lib/dom";
import { copyButton } from "../ui/copy-button";
import { openDialog } from "../ui/dialog";
import { flagInvalid, inputField } from "../ui/fields";
import { errorBox } from "../ui/states";

/** Add a webhook: URL and events; on success the signing secret is shown once (showCreatedSecret). */
export function openWebhookForm(api: AdminApi, onAdded: (created: CreatedWebhook) => void): void {
  const url = inputField({
    label: "Endpoint URL",
    name: "url",
    type: "url",
    required: true,
    placeholder: "https://hooks.example.com/keyforge",
    hint: "A public https:// host name (no IP addresses, internal names or query string). Redirects are not followed.",
  });
  const boxes = WEBHOOK_EVENTS.map((event) => {
    const id = uid("ev");
    const input = h("input", { attrs: { id, type: "checkbox", name: "events", value: event.type, checked: true } });
    return { input, wrap: h("div", { class: "check" }, input, h("label", { attrs: { for: id } }, event.label, " ", h("code", {}, event.type))) };
  });
  const status = h("div", { class: "form-status" });

  openDialog({ title: "Add webhook", testId: "webhook-form" }, (handle) => {
    const submit = h("button", { class: "primary", attrs: { type: "submit" } }, "Add webhook");
    const events = h("fieldset", { class: "field" }, h("legend", {}, "Events"), ...boxes.map((b) => b.wrap));
    const form = h(
      "form",
      { attrs: { novalidate: true } },
      url.wrap,
      events,
      status,
      h("div", { class: "dialog-actions" }, button("Cancel", handle.close), submit),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const target = url.input.value.trim();
      if (target === "") return flagInvalid(url.input, "Enter the URL that receives the alerts.");
      const chosen = boxes.filter((b) => b.input.checked).map((b) => b.input.value);
      if (chosen.length === 0) return render(status, h("p", { class: "error", attrs: { role: "alert" } }, "Choose at least one event."));
      submit.disabled = true;
      render(status);
      api.createWebhook({ url: target, events: chosen }).then(
        (created) => {
          handle.close();
          onAdded(created);
        },
        (error: unknown) => {
          render(status, errorBox(error, "Webhook not added"));
          submit.disabled = false;
        },
      );
    });
    queueMicrotask(() => url.input.focus());
    return [form];
  });
}

/** The one moment the signing secret is shown: the gateway keeps only its vault ciphertext. */
export function showCreatedSecret(created: CreatedWebhook, onClose: () => void): void {
  const secret = h("textarea", {
    class: "secret-value",
    attrs: { readonly: true, rows: 2, id: "new-webhook-secret", "data-testid": "webhook-secret", spellcheck: "false", autocomplete: "off" },
  });
  secret.value = created.secret;
  secret.addEventListener("focus", () => secret.select());
  openDialog({ title: "Webhook added", testId: "webhook-created", onClose }, (handle) => [
    h(
      "div",
      { class: "warning", attrs: { role: "note" } },
      h("strong", {}, "Copy this signing secret now. It will not be shown again."),
      " Verify each delivery's webhook-signature header with it (Standard Webhooks).",
    ),
    h("label", { attrs: { for: "new-webhook-secret" } }, "Signing secret"),
    h(
      "div",
      { class: "secret-row" },
      secret,
      copyButton(() => created.secret, secret, "Copy secret"),
    ),
    h("div", { class: "dialog-actions" }, button("I have stored the secret", handle.close, { class: "primary" })),
  ]);
  secret.focus();
}
