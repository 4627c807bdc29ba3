import type { CreatedKey } from "../api/schemas";
import { button, h } from "../lib/dom";
import { copyButton } from "../ui/copy-button";
import { openDialog } from "../ui/dialog";

/** The one moment the full `vk_` token exists outside the agent: shown once, with a copy button. */
export function showCreatedKey(created: CreatedKey, onClose: () => void): void {
  const token = h("textarea", {
    class: "secret-value",
    attrs: {
      readonly: true,
      rows: 2,
      id: "new-key-value",
      "data-testid": "new-key",
      "aria-describedby": "new-key-warning",
      spellcheck: "false",
      autocomplete: "off",
    },
  });
  token.value = created.key;
  token.addEventListener("focus", () => token.select());
  const baseUrl = `${window.location.origin}/v1`;
  openDialog({ title: `Key "${created.name}" created`, testId: "key-created", onClose }, (handle) => [
    h(
      "div",
      { class: "warning", attrs: { id: "new-key-warning", role: "note" } },
      h("strong", {}, "Copy this key now. It will not be shown again."),
      " KeyForge keeps only a hash of it. If it is lost, revoke the key and create a new one.",
    ),
    h("label", { attrs: { for: "new-key-value" } }, "Virtual key"),
    h(
      "div",
      { class: "secret-row" },
      token,
      copyButton(() => created.key, token, "Copy key"),
    ),
    h("p", { class: "muted" }, "Use it with any OpenAI SDK by changing only the base URL: ", h("code", {}, baseUrl)),
    h("div", { class: "dialog-actions" }, button("I have stored the key", handle.close, { class: "primary" })),
  ]);
  token.focus();
}
