import { button } from "../lib/dom";

/** Copies `value()` to the clipboard; if the browser refuses, selects `fallback` so Ctrl+C works. */
export function copyButton(value: () => string, fallback?: HTMLInputElement | HTMLTextAreaElement, label = "Copy"): HTMLButtonElement {
  const btn = button(label, () => {
    const done = (text: string) => {
      btn.textContent = text;
      window.setTimeout(() => (btn.textContent = label), 2000);
    };
    navigator.clipboard.writeText(value()).then(
      () => done("Copied"),
      () => {
        fallback?.focus();
        fallback?.select();
        done("Press Ctrl+C");
      },
    );
  });
  return btn;
}
