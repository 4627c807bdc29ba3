import { h } from "../lib/dom";

/** A polite live region for short confirmations ("Key revoked"). */
let region: HTMLElement | null = null;

export function toastRegion(): HTMLElement {
  region ??= h("div", { class: "toasts", attrs: { role: "status", "aria-live": "polite", "data-testid": "toasts" } });
  return region;
}

const MAX_SHOWN = 2;

export function toast(message: string, kind: "ok" | "warn" = "ok"): void {
  const item = h("p", { class: `toast toast-${kind}` }, message);
  const region = toastRegion();
  region.append(item);
  // Only the latest few stay up, so a burst of actions cannot bury the page on a phone.
  while (region.childElementCount > MAX_SHOWN) region.firstElementChild?.remove();
  window.setTimeout(() => item.remove(), 5000);
}
