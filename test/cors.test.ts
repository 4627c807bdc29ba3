import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { direct } from "./support/fuzz";
import { admin, BASE, createKey, gatewayFetch } from "./support/gateway";
import { TEST_SECRETS } from "./support/test-secrets";

/** A deployment whose dashboard lives on other origins (Pages), as configured by DASHBOARD_ORIGINS. */
const DASHBOARDS = { DASHBOARD_ORIGINS: "https://dash.example.com, https://admin.example.org" };

function withDashboards(path: string, init: RequestInit) {
  return direct(new Request(`${BASE}${path}`, init), DASHBOARDS);
}

describe("CORS", () => {
  it("/v1 answers a browser SDK's preflight from any origin", async () => {
    const res = await gatewayFetch(`${BASE}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "https://agent.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-stainless-os",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toContain("x-stainless-os");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("/v1 responses expose the request id, cost and rate-limit headers", async () => {
    const { key } = await createKey({ rpm: 100 });
    const res = await gatewayFetch(`${BASE}/v1/chat/completions`, {
      method: "POST",
      headers: { origin: "https://agent.example", authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    const exposed = res.headers.get("access-control-expose-headers") ?? "";
    for (const h of ["x-request-id", "x-keyforge-cost-usd", "x-ratelimit-remaining-requests", "retry-after"]) expect(exposed).toContain(h);
  });

  it("/admin/v1 gives no CORS grant to another origin, even with the right token", async () => {
    const preflight = await gatewayFetch(`${BASE}/admin/v1/keys`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const res = await admin("/keys", { headers: { origin: "https://evil.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("/admin/v1 grants a configured dashboard origin: preflight without a token, then the call and its errors", async () => {
    for (const origin of ["https://dash.example.com", "https://admin.example.org"]) {
      const preflight = await withDashboards("/admin/v1/keys", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "PATCH", "access-control-request-headers": "authorization,content-type" },
      });
      expect(preflight.res.status).toBe(204);
      expect(preflight.res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(preflight.res.headers.get("access-control-allow-methods")).toContain("PATCH");
      expect(preflight.res.headers.get("access-control-allow-headers")).toContain("authorization");
      expect(preflight.res.headers.get("access-control-allow-credentials")).toBeNull();

      const ok = await withDashboards("/admin/v1/keys", { headers: { origin, authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` } });
      expect(ok.res.status).toBe(200);
      expect(ok.res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(ok.res.headers.get("access-control-expose-headers")).toContain("x-request-id");
      // The dashboard must be able to read a 401 to tell the user the token is wrong.
      const denied = await withDashboards("/admin/v1/keys", { headers: { origin, authorization: "Bearer wrong" } });
      expect(denied.res.status).toBe(401);
      expect(denied.res.headers.get("access-control-allow-origin")).toBe(origin);
    }
  });

  it("/admin/v1 gives nothing to look-alikes of a configured origin", async () => {
    expect(env.DASHBOARD_ORIGINS ?? "").not.toContain("dash.example.com");
    const lookAlikes = [
      "http://dash.example.com",
      "https://dash.example.com:8443",
      "https://dash.example.com.evil.example",
      "https://evil-dash.example.com",
      "https://sub.dash.example.com",
      "https://DASH.EXAMPLE.COM",
      "null",
      "https://dash.example.com, https://evil.example",
    ];
    for (const origin of lookAlikes) {
      const preflight = await withDashboards("/admin/v1/keys", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
      expect(preflight.res.headers.get("access-control-allow-origin"), origin).toBeNull();
      const res = await withDashboards("/admin/v1/keys", { headers: { origin, authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` } });
      expect(res.res.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });
});
