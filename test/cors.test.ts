import { describe, expect, it } from "vitest";
import { admin, BASE, createKey, gatewayFetch } from "./support/gateway";

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
});
