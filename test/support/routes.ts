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

/**
 * A valid body for each POST route of the agent API, so suites that sweep every route fail only on
 * what they vary (the credential). A route missing here gets the chat body. `audited`: a success
 * with the mock model writes an audit entry (an estimate such as count_tokens for a non-Claude model
 * calls no provider and is not audited).
 */
const AGENT_BODIES: Record<string, { body: unknown; audited: boolean }> = {
  "/v1/chat/completions": { body: { model: "mock/echo", messages: [{ role: "user", content: "route sweep" }] }, audited: true },
  "/v1/messages": { body: { model: "mock/echo", max_tokens: 16, messages: [{ role: "user", content: "route sweep" }] }, audited: true },
  "/v1/messages/count_tokens": { body: { model: "mock/echo", messages: [{ role: "user", content: "route sweep" }] }, audited: false },
  "/v1/responses": { body: { model: "mock/echo", input: "route sweep" }, audited: true },
  "/v1/embeddings": { body: { model: "mock/echo", input: "route sweep" }, audited: true },
};

export const agentBody = (route: RouteInfo): unknown => (AGENT_BODIES[route.path] ?? AGENT_BODIES["/v1/chat/completions"]!).body;
export const agentAudited = (route: RouteInfo): boolean => route.method === "POST" && (AGENT_BODIES[route.path]?.audited ?? true);

/** The error shape of an agent route: Anthropic's on its Messages surface, OpenAI's everywhere else under /v1. */
export const agentErrorShape = (route: RouteInfo): "anthropic" | "openai" => (route.path.startsWith("/v1/messages") ? "anthropic" : "openai");
