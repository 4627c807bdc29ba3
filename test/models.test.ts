import { describe, expect, it } from "vitest";
import { BASE, createKey, gatewayFetch, sdk } from "./support/gateway";

describe("GET /v1/models", () => {
  it("lists the configured providers' models that the key may use, in the OpenAI list shape", async () => {
    const open = await createKey();
    const all = await sdk(open.key).models.list();
    const ids = all.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["mock/echo", "openai/gpt-5.4", "anthropic/claude-sonnet-4-6", "gemini/gemini-2.5-flash"]));
    expect(all.data[0]).toMatchObject({ object: "model", owned_by: expect.any(String), created: expect.any(Number) });

    const narrow = await createKey({ models: ["gpt-4o*", "google/*"] });
    const narrowIds = (await sdk(narrow.key).models.list()).data.map((m) => m.id).sort();
    // Each model under its bare id (where that id routes by itself) and its provider/model id.
    expect(narrowIds).toEqual([
      "gemini-2.5-flash",
      "gemini-2.5-flash-lite",
      "gemini-2.5-pro",
      "gemini-embedding-001",
      "gemini-embedding-2",
      "gemini/gemini-2.5-flash",
      "gemini/gemini-2.5-flash-lite",
      "gemini/gemini-2.5-pro",
      "gemini/gemini-embedding-001",
      "gemini/gemini-embedding-2",
      "gpt-4o",
      "gpt-4o-2024-05-13",
      "gpt-4o-mini",
      "openai/gpt-4o",
      "openai/gpt-4o-2024-05-13",
      "openai/gpt-4o-mini",
    ]);
  });

  it("lists bare ids next to provider/model ids, owned by the provider, filtered by the allow-list (both shapes)", async () => {
    const { key } = await createKey({ models: ["claude-haiku-*", "mock/*"] });
    const data = (await sdk(key).models.list()).data;
    const byId = new Map(data.map((m) => [m.id, m.owned_by]));
    expect([...byId.keys()].sort()).toEqual(["anthropic/claude-haiku-4-5", "claude-haiku-4-5", "mock/echo", "mock/slow"]);
    expect(byId.get("claude-haiku-4-5")).toBe("anthropic");
    expect(byId.get("mock/echo")).toBe("mock");

    const res = await gatewayFetch(`${BASE}/v1/models?limit=1000`, { headers: { "x-api-key": key, "anthropic-version": "2023-06-01" } });
    const anthropic = (await res.json()) as { data: Array<{ id: string; max_tokens?: number }> };
    expect(anthropic.data.map((m) => m.id).sort()).toEqual(["anthropic/claude-haiku-4-5", "claude-haiku-4-5", "mock/echo", "mock/slow"]);
    // Anthropic's list carries each model's maximum output where the catalogue knows it.
    expect(anthropic.data.find((m) => m.id === "claude-haiku-4-5")?.max_tokens).toBe(64_000);
    expect(anthropic.data.find((m) => m.id === "mock/echo")?.max_tokens).toBeUndefined();
  });

  it("carries the key's rate-limit headers without spending a request", async () => {
    const { key } = await createKey({ rpm: 10, tpm: 5000 });
    for (let i = 0; i < 2; i++) {
      const res = await gatewayFetch(`${BASE}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.headers.get("x-ratelimit-limit-requests")).toBe("10");
      expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("10");
      expect(res.headers.get("x-ratelimit-limit-tokens")).toBe("5000");
    }
  });

  it("refuses a bad key", async () => {
    const res = await gatewayFetch(`${BASE}/v1/models`, { headers: { authorization: "Bearer vk_nope" } });
    expect(res.status).toBe(401);
  });
});
