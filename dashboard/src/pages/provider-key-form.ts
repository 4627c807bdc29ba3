import type { AdminApi } from "../api/admin-api";
import type { Provider, ProviderKey } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { openDialog } from "../ui/dialog";
import { flagInvalid, inputField, selectField } from "../ui/fields";
import { errorBox } from "../ui/states";

/** Add a provider key. The secret goes to the vault and is never shown again (only its last 4). */
export function openProviderKeyForm(api: AdminApi, providers: Provider[], onAdded: (key: ProviderKey) => void): void {
  const choices = providers.filter((p) => p.type !== "mock").map((p) => ({ value: p.name, label: p.builtin === false ? `${p.name} (custom)` : p.name }));
  const provider = selectField("Provider", "provider", choices.length > 0 ? choices : [{ value: "openai", label: "openai" }]);
  const secret = inputField({
    label: "API key",
    name: "key",
    type: "password",
    required: true,
    autocomplete: "new-password",
    spellcheck: false,
    hint: "Encrypted with AES-256-GCM in the vault. It will not be shown again.",
  });
  const name = inputField({ label: "Name", name: "name", placeholder: "prod-org-key-1" });
  const scope = inputField({
    label: "Rate-limit scope",
    name: "scope",
    placeholder: "org-abc123",
    hint: "The organisation or project the key belongs to: a 429 cools down every key of the same scope.",
  });
  const status = h("div", { class: "form-status" });

  openDialog({ title: "Add provider key", testId: "provider-key-form" }, (handle) => {
    const submit = h("button", { class: "primary", attrs: { type: "submit" } }, "Add key");
    const form = h(
      "form",
      { attrs: { novalidate: true } },
      provider.wrap,
      secret.wrap,
      name.wrap,
      scope.wrap,
      status,
      h("div", { class: "dialog-actions" }, button("Cancel", handle.close), submit),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = secret.input.value.trim();
      if (key === "") return flagInvalid(secret.input, "Paste the provider's API key.");
      submit.disabled = true;
      render(status);
      const input = {
        provider: provider.select.value,
        key,
        ...(name.input.value.trim() ? { name: name.input.value.trim() } : {}),
        ...(scope.input.value.trim() ? { scope: scope.input.value.trim() } : {}),
      };
      api.addProviderKey(input).then(
        (added) => {
          secret.input.value = "";
          handle.close();
          onAdded(added);
        },
        (error: unknown) => {
          render(status, errorBox(error, "Key not added"));
          submit.disabled = false;
        },
      );
    });
    queueMicrotask(() => provider.select.focus());
    return [form];
  });
}
