import type { AdminApi } from "./api/admin-api";
import { button, h, render, type Child } from "./lib/dom";
import { currentRoute, onRouteChange, routeHref, type Route } from "./lib/router";
import { signedInRole } from "./lib/role";
import { adminTokensPage } from "./pages/admin-tokens-page";
import { auditPage } from "./pages/audit-page";
import { budgetsPage } from "./pages/budgets-page";
import { controlPlanePage } from "./pages/control-plane-page";
import { keyHistoryPage } from "./pages/key-history-page";
import { keysPage } from "./pages/keys-page";
import type { Page } from "./pages/page";
import { providerKeysPage } from "./pages/provider-keys-page";
import { usagePage } from "./pages/usage-page";
import { webhooksPage } from "./pages/webhooks-page";
import { brandMark } from "./ui/brand";
import { toastRegion } from "./ui/toast";

/** Header, navigation and the page outlet. Switching pages disposes the old one's timers. */

const NAV: Array<{ route: Route; label: string }> = [
  { route: { page: "keys" }, label: "Virtual keys" },
  { route: { page: "provider-keys" }, label: "Provider keys" },
  { route: { page: "budgets" }, label: "Budgets" },
  { route: { page: "usage", keyId: null }, label: "Usage" },
  { route: { page: "audit", keyId: null }, label: "Audit" },
  { route: { page: "webhooks" }, label: "Webhooks" },
  { route: { page: "control-plane" }, label: "Control plane" },
  { route: { page: "admin-tokens" }, label: "Admin tokens" },
];

function mountPage(api: AdminApi, route: Route): Page {
  switch (route.page) {
    case "keys":
      return keysPage({ api, route });
    case "provider-keys":
      return providerKeysPage({ api, route });
    case "usage":
      return usagePage({ api, route });
    case "audit":
      return auditPage({ api, route });
    case "webhooks":
      return webhooksPage({ api, route });
    case "budgets":
      return budgetsPage({ api, route });
    case "control-plane":
      return controlPlanePage({ api, route });
    case "admin-tokens":
      return adminTokensPage({ api, route });
    case "history":
      return keyHistoryPage({ api, route });
  }
}

/**
 * An auditor token gets the shell class `read-only`: the CSS hides every `[data-write]` control (the
 * gateway would answer 403), and the header says so.
 */
export function appShell(api: AdminApi, signOut: () => void, token: string): { el: HTMLElement; dispose: () => void } {
  const links = NAV.map((item) => h("a", { attrs: { href: routeHref(item.route), "data-page": item.route.page } }, item.label));
  const main = h("main", { class: "main", attrs: { id: "main", tabindex: -1 } });
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", attrs: { href: "#/keys" } }, brandMark(), "KeyForge"),
    h("nav", { attrs: { "aria-label": "Main" } }, h("ul", {}, ...links.map((a): Child => h("li", {}, a)))),
    button("Sign out", signOut, { class: "ghost sign-out" }),
  );
  const el = h("div", { class: "shell" }, header, main, toastRegion());
  void signedInRole(api, token).then((role) => {
    if (role !== "auditor") return;
    el.classList.add("read-only");
    header.insertBefore(
      h("span", { class: "badge badge-neutral role-badge", attrs: { "data-testid": "read-only-badge" } }, "auditor · read-only"),
      header.lastChild,
    );
  });
  let page: Page | null = null;

  const show = (route: Route, moveFocus: boolean) => {
    page?.dispose?.();
    page = mountPage(api, route);
    render(main, page.el);
    for (const link of links) {
      if (link.dataset.page === route.page) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    // Announce the new page to assistive technology by moving focus to its heading.
    if (moveFocus) main.querySelector<HTMLElement>("h1")?.focus();
  };
  const stop = onRouteChange((route) => show(route, true));
  show(currentRoute(), false);
  return {
    el,
    dispose: () => {
      stop();
      page?.dispose?.();
    },
  };
}
