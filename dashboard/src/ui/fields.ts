import { h, uid, type Child } from "../lib/dom";

/** Labelled form controls: every input has a `<label for>` and an optional hint wired by aria-describedby. */

export interface InputOptions {
  label: string;
  name: string;
  value?: string;
  type?: "text" | "number" | "password" | "datetime-local" | "url";
  required?: boolean;
  hint?: Child;
  placeholder?: string;
  autocomplete?: string;
  min?: number;
  step?: string;
  inputmode?: "numeric" | "decimal" | "text";
  pattern?: string;
  spellcheck?: boolean;
}

export function inputField(options: InputOptions): { wrap: HTMLElement; input: HTMLInputElement } {
  const id = uid(`f-${options.name}`);
  const hintId = options.hint ? `${id}-hint` : undefined;
  const input = h("input", {
    attrs: {
      id,
      name: options.name,
      type: options.type ?? "text",
      required: options.required,
      placeholder: options.placeholder,
      autocomplete: options.autocomplete ?? "off",
      min: options.min,
      step: options.step,
      inputmode: options.inputmode,
      pattern: options.pattern,
      spellcheck: options.spellcheck === undefined ? undefined : String(options.spellcheck),
      "aria-describedby": hintId,
    },
  });
  input.value = options.value ?? "";
  const wrap = h(
    "div",
    { class: "field" },
    h("label", { attrs: { for: id } }, options.label, options.required ? h("span", { class: "required", attrs: { "aria-hidden": "true" } }, " *") : null),
    input,
    options.hint ? h("p", { class: "hint", attrs: { id: hintId } }, options.hint) : null,
  );
  return { wrap, input };
}

export function selectField(
  label: string,
  name: string,
  options: Array<{ value: string; label: string }>,
  value?: string,
): { wrap: HTMLElement; select: HTMLSelectElement } {
  const id = uid(`f-${name}`);
  const select = h("select", { attrs: { id, name } }, ...options.map((o) => h("option", { attrs: { value: o.value } }, o.label)));
  if (value !== undefined) select.value = value;
  return { wrap: h("div", { class: "field" }, h("label", { attrs: { for: id } }, label), select), select };
}

export function textareaField(label: string, name: string, value: string, hint?: Child): { wrap: HTMLElement; textarea: HTMLTextAreaElement } {
  const id = uid(`f-${name}`);
  const hintId = hint ? `${id}-hint` : undefined;
  const textarea = h("textarea", { attrs: { id, name, rows: 3, spellcheck: "false", "aria-describedby": hintId } });
  textarea.value = value;
  const wrap = h(
    "div",
    { class: "field" },
    h("label", { attrs: { for: id } }, label),
    textarea,
    hint ? h("p", { class: "hint", attrs: { id: hintId } }, hint) : null,
  );
  return { wrap, textarea };
}

/** Marks a control invalid with a message, and focuses it. */
export function flagInvalid(control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, message: string): void {
  control.setCustomValidity(message);
  control.reportValidity();
  control.addEventListener("input", () => control.setCustomValidity(""), { once: true });
  control.focus();
}
