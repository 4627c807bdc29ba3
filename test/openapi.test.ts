import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { admin } from "./support/gateway";

describe("GET /admin/v1/openapi.json", () => {
  it("documents every admin and agent route the app serves", async () => {
    const res = await admin("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`)),
    );
    const served = app.routes
      .filter((r) => (r.path.startsWith("/admin/v1/") || r.path.startsWith("/v1/")) && r.method !== "ALL" && !r.path.endsWith("openapi.json"))
      .map((r) => `${r.method} ${r.path.replace(/\/$/, "")}`);
    expect(served.length).toBeGreaterThan(15);
    for (const route of served) expect(documented, `undocumented: ${route}`).toContain(route);
  });

  it("carries the request schemas the routes validate with", async () => {
    const doc = (await (await admin("/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> } }>
      >;
    };
    const create = doc.paths["/admin/v1/keys"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(Object.keys(create.properties ?? {})).toEqual(expect.arrayContaining(["name", "models", "spend_cap_usd", "rpm", "tpm", "expires_at"]));
    expect(create.required).toEqual(["name"]);
  });

  it("requires the admin token", async () => {
    expect((await admin("/openapi.json", { headers: { authorization: "" } })).status).toBe(401);
  });
});
