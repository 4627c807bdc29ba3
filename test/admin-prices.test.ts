import { describe, expect, it } from "vitest";
import { admin, chat, createKey } from "./support/gateway";

describe("admin: model prices", () => {
  it("lists the bundled prices", async () => {
    const res = await admin("/prices");
    const body = (await res.json()) as { data: Array<{ model: string; source: string; input_usd_per_mtok: number; output_usd_per_mtok: number }> };
    expect(body.data).toContainEqual(expect.objectContaining({ model: "openai/gpt-5.4", source: "builtin", input_usd_per_mtok: 2.5, output_usd_per_mtok: 15 }));
    expect(body.data).toContainEqual(expect.objectContaining({ model: "anthropic/claude-sonnet-4-6", cache_write_usd_per_mtok: 3.75 }));
  });

  it("an admin price overrides the bundled one and meters the next request", async () => {
    const set = await admin("/prices", { method: "POST", json: { model: "mock/slow", input_usd_per_mtok: 10, output_usd_per_mtok: 20 } });
    expect(set.status).toBe(201);
    const { key } = await createKey();
    const res = await chat(key, { model: "mock/slow", mock_delay_ms: 0, messages: [{ role: "user", content: "abcdefgh" }] });
    // 2 prompt tokens × 10 + 2 completion tokens × 20 = 60 µ$.
    expect(res.headers.get("x-keyforge-cost-usd")).toBe("0.000060");
    expect((await admin("/prices?model=mock/slow", { method: "DELETE" })).status).toBe(200);
    expect((await admin("/prices?model=mock/slow", { method: "DELETE" })).status).toBe(404);
  });

  it.each([
    [{ model: "no-slash", input_usd_per_mtok: 1, output_usd_per_mtok: 1 }],
    [{ model: "acme/x", input_usd_per_mtok: -1, output_usd_per_mtok: 1 }],
    [{ model: "acme/x", input_usd_per_mtok: 1 }],
  ])("rejects %j", async (input) => {
    expect((await admin("/prices", { method: "POST", json: input })).status).toBe(400);
  });
});
