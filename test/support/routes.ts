import { app } from "../../src/app";

/**
 * The Worker's routes as Hono registered them, so suites that must cover "every route" (fuzzing,
 * the auth suite, the leak test) pick up a route the day it is added, without editing the suite.
 */

export interface RouteInfo {
  method: string;
  /** Hono pattern, e.g. `/admin/v1/keys/:id/revoke`. */
  path: string;
  /** Names of the `:params` in the pattern, in order. */
  params: string[];
}

function routes(): RouteInfo[] {
  const seen = new Set<string>();
  const out: RouteInfo[] = [];
  for (const r of app.routes) {
    // "ALL" entries are middleware (`app.use`), not endpoints.
    if (r.method === "ALL" || seen.has(`${r.method} ${r.path}`)) continue;
    seen.add(`${r.method} ${r.path}`);
    out.push({ method: r.method, path: r.path, params: [...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!) });
  }
  return out;
}

/** Every endpoint behind the admin token. */
export const adminRoutes = (): RouteInfo[] => routes().filter((r) => r.path.startsWith("/admin/v1/"));

/** Every endpoint of the agent API (behind a `vk_` key). */
export const agentRoutes = (): RouteInfo[] => routes().filter((r) => r.path.startsWith("/v1/"));

/** Public endpoints (no credential): reports, verifier keys, health. */
export const publicRoutes = (): RouteInfo[] => routes().filter((r) => !r.path.startsWith("/admin/v1/") && !r.path.startsWith("/v1/"));

/** The concrete path of a route, each `:param` replaced by the (URL-encoded) value given for it. */
export function fillPath(route: RouteInfo, values: Record<string, string> | ((param: string) => string)): string {
  const valueOf = typeof values === "function" ? values : (p: string) => values[p] ?? "x";
  return route.path.replace(/:([A-Za-z_]+)/g, (_m, name: string) => encodeURIComponent(valueOf(name)));
}

/** A readable label, e.g. `PATCH /admin/v1/keys/:id`. */
export const label = (route: RouteInfo): string => `${route.method} ${route.path}`;

/** Whether a concrete URL path is served by the route (for coverage checks). */
export function matches(route: RouteInfo, method: string, pathname: string): boolean {
  if (route.method !== method) return false;
  const pattern = route.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:([A-Za-z_]+)/g, "[^/]+");
  return new RegExp(`^${pattern}$`).test(pathname);
}
