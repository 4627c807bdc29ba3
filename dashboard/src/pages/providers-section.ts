import type { AdminApi } from "../api/admin-api";
import type { Provider } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { openDialog } from "../ui/dialog";
import { flagInvalid, inputField } from "../ui/fields";
import { empty, errorBox } from "../ui/states";
import { cell, dataTable, rowHeader } from "../ui/table";

/** Providers: the built-ins and custom OpenAI-compatible ones (`<name>/<model>` routes to base_url). */

export function providersTable(providers: Provider[]): HTMLElement {
  if (providers.length === 0) return empty("No providers.");
  return dataTable({
    testId: "providers-table",
    caption: "Providers",
    head: ["Name", "Type", "Base URL", "Kind"],
    rows: providers.map((p) =>
      h(
        "tr",
        { attrs: { "data-testid": "provider-row" } },
        rowHeader("Name", p.name),
        cell("Type", p.type),
        cell("Base URL", p.base_url ? h("code", { class: "wrap" }, p.base_url) : h("span", { class: "muted" }, "in process")),
        cell("Kind", p.builtin === false ? "custom" : "built-in"),
      ),
    ),
  });
}

export function openProviderForm(api: AdminApi, onAdded: (provider: Provider) => void): void {
  const name = inputField({
    label: "Name",
    name: "name",
    required: true,
    placeholder: "local-llm",
    pattern: "[a-z0-9-]{1,32}",
    hint: "1-32 characters of a-z, 0-9 and '-'. Agents call models as <name>/<model>.",
  });
  const baseUrl = inputField({
    label: "Base URL",
    name: "base_url",
    type: "url",
    required: true,
    placeholder: "https://llm.example.com/v1",
    hint: "OpenAI-compatible API root (the part before /chat/completions).",
  });
  const status = h("div", { class: "form-status" });
  openDialog({ title: "Add custom provider", testId: "provider-form" }, (handle) => {
    const submit = h("button", { class: "primary", attrs: { type: "submit" } }, "Add provider");
    const form = h(
      "form",
      { attrs: { novalidate: true } },
      name.wrap,
      baseUrl.wrap,
      status,
      h("div", { class: "dialog-actions" }, button("Cancel", handle.close), submit),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!/^[a-z0-9-]{1,32}$/.test(name.input.value)) return flagInvalid(name.input, "Use 1-32 characters of a-z, 0-9 and '-'.");
      if (baseUrl.input.value.trim() === "") return flagInvalid(baseUrl.input, "Enter the provider's base URL.");
      submit.disabled = true;
      render(status);
      api.addProvider({ name: name.input.value, type: "openai-compatible", base_url: baseUrl.input.value.trim() }).then(
        (added) => {
          handle.close();
          onAdded(added);
        },
        (error: unknown) => {
          render(status, errorBox(error, "Provider not added"));
          submit.disabled = false;
        },
      );
    });
    queueMicrotask(() => name.input.focus());
    return [form];
  });
}
