import { button, h } from "../lib/dom";
import { openDialog } from "../ui/dialog";
import { inputField } from "../ui/fields";

/** The "Share a public report" dialog of a log (a key's or the control plane's): an optional seq range. */
export function openShareDialog(onSubmit: (range: { from_seq?: number; to_seq?: number }) => void): void {
  const from = inputField({ label: "From seq (optional)", name: "from_seq", type: "number", min: 1, step: "1", inputmode: "numeric" });
  const to = inputField({
    label: "To seq (optional)",
    name: "to_seq",
    type: "number",
    min: 1,
    step: "1",
    inputmode: "numeric",
    hint: "Empty = the whole chain so far.",
  });
  openDialog(
    {
      title: "Share a public report",
      testId: "share-form",
      description: "The report holds the chosen entries with proofs and a signed checkpoint. Anyone with the link can read and verify them.",
    },
    (handle) => {
      const form = h(
        "form",
        {},
        h("div", { class: "field-grid" }, from.wrap, to.wrap),
        h("div", { class: "dialog-actions" }, button("Cancel", handle.close), h("button", { class: "primary", attrs: { type: "submit" } }, "Create report")),
      );
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        handle.close();
        onSubmit({ ...(from.input.value ? { from_seq: Number(from.input.value) } : {}), ...(to.input.value ? { to_seq: Number(to.input.value) } : {}) });
      });
      return [form];
    },
  );
}
