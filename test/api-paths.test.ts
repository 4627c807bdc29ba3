import { describe, expect, it } from "vitest";
import { BASE, gatewayFetch } from "./support/gateway";
import { TEST_SECRETS } from "./support/test-secrets";

/**
 * Every API path answers as its API: for every method × prefix × (known and unknown path) the
 * Worker answers JSON in the family's error shape — 404 for an unknown path, 405 (with Allow) for a
 * known path and a method it does not serve — and HEAD gets the same status with no body. That these
 * prefixes reach the Worker at all (not the dashboard's assets) is wrangler.toml's run_worker_first,
 * checked against `wrangler dev` in test/e2e/api-paths.test.ts; this pool calls the Worker directly.
 */

type Family = "openai" | "anthropic" | "gemini" | "admin";
type Body = { type?: unknown; error?: Record<string, unknown> };

const SHAPES: Record<Family, (body: Body) => boolean> = {
  openai: (b) => typeof b.error?.message === "string" && typeof b.error.type === "string" && "param" in b.error && typeof b.error.code === "string",
  anthropic: (b) => b.type === "error" && typeof b.error?.type === "string" && typeof b.error.message === "string",
  gemini: (b) => typeof b.error?.code === "number" && typeof b.error.status === "string" && typeof b.error.message === "string",
  admin: (b) => typeof b.error?.code === "string" && typeof b.error.message === "string" && typeof b.error.request_id === "string",
};

/** `served`: the methods the path is served for (empty: an unknown path). */
const PATHS: Array<{ path: string; family: Family; served: string[] }> = [
  { path: "/v1/chat/completions", family: "openai", served: ["POST"] },
  { path: "/v1/models", family: "openai", served: ["GET"] },
  { path: "/v1/no-such-api", family: "openai", served: [] },
  { path: "/v1/messages", family: "anthropic", served: ["POST"] },
  { path: "/v1/messages/no-such-api", family: "anthropic", served: [] },
  { path: "/v1beta/models/gemini-2.5-flash:generateContent", family: "gemini", served: ["POST"] },
  { path: "/v1/models/gemini-2.5-flash:streamGenerateContent", family: "gemini", served: ["POST"] },
  { path: "/v1beta/models/gemini-2.5-flash:noSuchMethod", family: "gemini", served: [] },
  { path: "/v1beta/no-such-api", family: "gemini", served: [] },
  { path: "/admin/v1/keys", family: "admin", served: ["GET", "POST"] },
  { path: "/admin/v1/no-such-api", family: "admin", served: [] },
  { path: "/admin/no-such-api", family: "admin", served: [] },
  { path: "/reports/rpt_0000000000000000000000.json", family: "admin", served: ["GET"] },
  { path: "/reports/a/b", family: "admin", served: [] },
  { path: "/.well-known/keyforge/audit-keys", family: "admin", served: ["GET"] },
  { path: "/.well-known/no-such-api", family: "admin", served: [] },
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

function send(method: string, path: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (path.startsWith("/admin/")) headers.authorization = `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`;
  const body = ["POST", "PUT", "PATCH", "DELETE"].includes(method) ? "{}" : null;
  if (body) headers["content-type"] = "application/json";
  return gatewayFetch(`${BASE}${path}`, { method, headers, body });
}

describe("every API path answers as its API", () => {
  it.each(PATHS)(
    "$path: every method gets JSON of its family, 404 unknown, 405 + Allow for a method not served",
    { timeout: 30_000 },
    async ({ path, family, served }) => {
      for (const method of METHODS) {
        const res = await send(method, path);
        const label = `${method} ${path} → ${res.status}`;
        expect(res.headers.get("content-type") ?? "none", label).toMatch(/^application\/json/);
        const text = await res.text();
        const isServed = served.includes(method) || (method === "HEAD" && served.includes("GET"));
        if (served.length === 0) expect(res.status, label).toBe(404);
        else if (!isServed) {
          expect(res.status, label).toBe(405);
          for (const m of served) expect(res.headers.get("allow"), label).toContain(m);
        } else expect(res.status, label).not.toBe(405);
        if (method === "HEAD") {
          expect(text, label).toBe("");
          // Same status as the GET it stands for.
          expect(res.status, label).toBe((await send("GET", path)).status);
          continue;
        }
        if (res.status >= 400) expect(SHAPES[family](JSON.parse(text) as Body), `${label}: ${text}`).toBe(true);
      }
    },
  );
});
