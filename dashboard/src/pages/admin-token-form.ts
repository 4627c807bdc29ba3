import type { AdminApi } from "../api/admin-api";
import type { AdminRole, CreatedAdminToken } from "../api/control-plane-api";
import { button, h, render } from "../lib/dom";
import { copyButton } from "../ui/copy-button";
import { openDialog } from "../ui/dialog";
import { flagInvalid, inputField, selectField } from "../ui/fields";
import { errorBox } from "../ui/states";

/** Create a named admin token (name + role); on success the token is shown once (showCreatedAdminToken). */
export function openAdminTokenForm(api: AdminApi, onCreated: (created: CreatedAdminToken) => void): void {
  const name = inputField({
    label: "Name",
    name: "name",
    required: true,
    placeholder: "alice@example.com",
    hint: "The actor of every control-plane entry this token writes. Names are never reused.",
  });
  const role = selectField("Role", "role", [
    { value: "admin", label: "Admin: read and change everything" },
    { value: "auditor", label: "Auditor: read everything, change nothing" },
  ]);
  const status = h("div", { class: "form-status" });

  openDialog({ title: "Create admin token", testId: "admin-token-form" }, (handle) => {
    const submit = h("button", { class: "primary", attrs: { type: "submit" } }, "Create token");
    const form = h(
      "form",
      { attrs: { novalidate: true } },
      name.wrap,
      role.wrap,
      status,
      h("div", { class: "dialog-actions" }, button("Cancel", handle.close), submit),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = name.input.value.trim();
      if (value === "") return flagInvalid(name.input, "Enter a name for the token.");
      submit.disabled = true;
      render(status);
      api.createAdminToken({ name: value, role: role.select.value as AdminRole }).then(
        (created) => {
          handle.close();
          onCreated(created);
        },
        (error: unknown) => {
          render(status, errorBox(error, "Token not created"));
          submit.disabled = false;
        },
      );
    });
    queueMicrotask(() => name.input.focus());
    return [form];
  });
}

/** The one moment the `kfa_` token exists outside its holder: the gateway keeps only a hash. */
export function showCreatedAdminToken(created: CreatedAdminToken, onClose: () => void): void {
  const token = h("textarea", {
    class: "secret-value",
    attrs: { readonly: true, rows: 2, id: "new-admin-token", "data-testid": "new-admin-token", spellcheck: "false", autocomplete: "off" },
  });
  token.value = created.token;
  token.addEventListener("focus", () => token.select());
  openDialog({ title: `Token "${created.name}" created`, testId: "admin-token-created", onClose }, (handle) => [
    h(
      "div",
      { class: "warning", attrs: { role: "note" } },
      h("strong", {}, "Copy this token now. It will not be shown again."),
      ` It signs in as ${created.role === "admin" ? "an admin" : "an auditor (read-only)"}; revoke it here if it is lost.`,
    ),
    h("label", { attrs: { for: "new-admin-token" } }, "Admin token"),
    h(
      "div",
      { class: "secret-row" },
      token,
      copyButton(() => created.token, token, "Copy token"),
    ),
    h("div", { class: "dialog-actions" }, button("I have stored the token", handle.close, { class: "primary" })),
  ]);
  token.focus();
}
