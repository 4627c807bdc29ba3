/**
 * Hash routes (`#/keys`, `#/usage?key=…`, `#/audit/<key id>`, `#/history/<key id>`): they work on any static host
 * without server rewrites. Hashes that do not start with `#/` (the skip link) are not routes.
 */

export type Route =
  | { page: "keys" }
  | { page: "provider-keys" }
  | { page: "webhooks" }
  | { page: "budgets" }
  | { page: "control-plane" }
  | { page: "admin-tokens" }
  | { page: "history"; keyId: string }
  | { page: "usage"; keyId: string | null }
  | { page: "audit"; keyId: string | null };

export const DEFAULT_ROUTE: Route = { page: "keys" };

export function parseRoute(hash: string): Route | null {
  if (!hash.startsWith("#/")) return null;
  const [path = "", query = ""] = hash.slice(2).split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  switch (parts[0]) {
    case undefined:
    case "keys":
      return { page: "keys" };
    case "provider-keys":
      return { page: "provider-keys" };
    case "webhooks":
      return { page: "webhooks" };
    case "budgets":
      return { page: "budgets" };
    case "control-plane":
      return { page: "control-plane" };
    case "admin-tokens":
      return { page: "admin-tokens" };
    case "history":
      return parts[1] ? { page: "history", keyId: parts[1] } : DEFAULT_ROUTE;
    case "usage":
      return { page: "usage", keyId: params.get("key") };
    case "audit":
      return { page: "audit", keyId: parts[1] ?? null };
    default:
      return DEFAULT_ROUTE;
  }
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case "keys":
    case "provider-keys":
    case "webhooks":
    case "budgets":
    case "control-plane":
    case "admin-tokens":
      return `#/${route.page}`;
    case "history":
      return `#/history/${encodeURIComponent(route.keyId)}`;
    case "usage":
      return route.keyId ? `#/usage?key=${encodeURIComponent(route.keyId)}` : "#/usage";
    case "audit":
      return route.keyId ? `#/audit/${encodeURIComponent(route.keyId)}` : "#/audit";
  }
}

export function onRouteChange(listener: (route: Route) => void): () => void {
  const handler = () => {
    const route = parseRoute(window.location.hash);
    if (route) listener(route);
  };
  window.addEventListener("hashchange", handler);
  return () => window.removeEventListener("hashchange", handler);
}

export function currentRoute(): Route {
  return parseRoute(window.location.hash) ?? DEFAULT_ROUTE;
}

export function navigate(route: Route): void {
  window.location.hash = routeHref(route);
}
