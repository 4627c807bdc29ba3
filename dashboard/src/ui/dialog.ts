import { append, button, h, type Child } from "../lib/dom";

/**
 * A modal on the native `<dialog>`: `showModal()` makes the rest of the page inert and traps focus,
 * Escape closes it, focus starts on the `autofocus` element (or the first control) and returns to
 * the element that opened it.
 */
export interface DialogHandle {
  dialog: HTMLDialogElement;
  body: HTMLElement;
  close: () => void;
}

export interface DialogOptions {
  title: string;
  description?: Child;
  testId?: string;
  onClose?: () => void;
  /** Hide the corner close button (a dialog that must be acknowledged explicitly). */
  noCloseButton?: boolean;
}

export function openDialog(options: DialogOptions, build: (handle: DialogHandle) => Child[]): DialogHandle {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `dlg-title-${Math.random().toString(36).slice(2, 8)}`;
  const body = h("div", { class: "dialog-body" });
  const dialog = h("dialog", { class: "dialog", attrs: { "aria-labelledby": titleId, "data-testid": options.testId } });
  const close = () => dialog.close();
  const handle: DialogHandle = { dialog, body, close };
  const header = h(
    "header",
    { class: "dialog-header" },
    h("h2", { attrs: { id: titleId } }, options.title),
    options.noCloseButton ? null : button("×", close, { class: "icon-button", attrs: { "aria-label": "Close dialog" } }),
  );
  append(body, ...build(handle));
  append(dialog, header, options.description ? h("p", { class: "dialog-description" }, options.description) : null, body);
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener?.isConnected) opener.focus();
    options.onClose?.();
  });
  document.body.append(dialog);
  dialog.showModal();
  return handle;
}

/** "Are you sure?" with the safe choice focused first. Resolves true only on an explicit confirm. */
export function confirmDialog(options: { title: string; message: Child; confirmLabel: string; danger?: boolean; testId?: string }): Promise<boolean> {
  return new Promise((resolve) => {
    let confirmed = false;
    openDialog({ title: options.title, testId: options.testId, onClose: () => resolve(confirmed) }, (handle) => [
      h("p", {}, options.message),
      h(
        "div",
        { class: "dialog-actions" },
        button("Cancel", handle.close, { attrs: { autofocus: true } }),
        button(
          options.confirmLabel,
          () => {
            confirmed = true;
            handle.close();
          },
          { class: options.danger ? "danger" : "primary" },
        ),
      ),
    ]);
  });
}
