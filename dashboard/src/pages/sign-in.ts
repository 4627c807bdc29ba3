import { adminApi } from "../api/admin-api";
import { ApiClient } from "../api/client";
import { apiBase } from "../lib/api-base";
import { h, render } from "../lib/dom";
import { brandMark } from "../ui/brand";
import { errorBox } from "../ui/states";
import { inputField } from "../ui/fields";

/**
 * Sign-in with the admin token. The token is checked against the API before it is kept (in
 * sessionStorage, by the caller); a rejected token shows the gateway's error and no data.
 */
export function signInPage(onSignedIn: (token: string) => void, notice?: string): HTMLElement {
  const token = inputField({
    label: "Admin token",
    name: "admin-token",
    type: "password",
    required: true,
    autocomplete: "off",
    spellcheck: false,
    hint: "The ADMIN_TOKEN secret of this gateway (npm run dev prints it). Kept only in this tab's session storage.",
  });
  const status = h("div", { class: "sign-in-status" });
  const submit = h("button", { class: "primary", attrs: { type: "submit" } }, "Sign in");
  const form = h("form", { class: "card sign-in-form", attrs: { "aria-labelledby": "sign-in-title", novalidate: true } }, token.wrap, status, submit);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = token.input.value.trim();
    if (value === "") {
      render(status, h("p", { class: "field-error", attrs: { role: "alert" } }, "Enter the admin token."));
      token.input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    render(status);
    adminApi(new ApiClient({ token: value, base: apiBase() }))
      .listKeys()
      .then(
        () => onSignedIn(value),
        (error: unknown) => {
          render(status, errorBox(error, "Sign-in failed"));
          token.input.select();
          token.input.focus();
        },
      )
      .finally(() => {
        submit.disabled = false;
        submit.textContent = "Sign in";
      });
  });

  const page = h(
    "main",
    { class: "sign-in", attrs: { id: "main", tabindex: -1 } },
    h("h1", { attrs: { id: "sign-in-title" } }, brandMark(), " KeyForge admin"),
    notice ? h("p", { class: "notice", attrs: { role: "alert" } }, notice) : null,
    form,
  );
  queueMicrotask(() => token.input.focus());
  return page;
}
