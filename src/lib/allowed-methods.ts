/**
 * The HTTP methods the app serves on a path, from its registered routes: a request that reaches the
 * not-found handler on a path served for other methods gets a 405 naming them, not a 404. `ALL`
 * entries are middleware (`app.use`) or handlers that check the method themselves.
 */

interface Route {
  method: string;
  path: string;
}

function compile(path: string): RegExp {
  const pattern = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return "[^/]+";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${pattern}/?$`);
}

/** Compiled once per route table (routes are all registered before the first request). */
let compiled: { routes: readonly Route[]; size: number; list: Array<{ method: string; pattern: RegExp }> } | null = null;

export function allowedMethods(routes: readonly Route[], path: string): string[] {
  if (compiled?.routes !== routes || compiled.size !== routes.length) {
    compiled = { routes, size: routes.length, list: routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, pattern: compile(r.path) })) };
  }
  const methods = new Set(compiled.list.filter((r) => r.pattern.test(path)).map((r) => r.method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}
