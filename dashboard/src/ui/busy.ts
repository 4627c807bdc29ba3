/** True while the user is inside `region` or a dialog: background refreshes wait. */
export function userIsBusyIn(region: Element): boolean {
  return region.contains(document.activeElement) || document.querySelector("dialog[open]") !== null;
}
