import { describe, expect, it } from "vitest";
import { requestEntries, verifyAudit } from "./support/audit";
import { admin, BASE, createKey, gatewayFetch, mockUpstream, sdk } from "./support/gateway";
import { settledUsage } from "./support/usage";

/**
 * POST /v1/embeddings through the front door with the official openai SDK (which asks for base64
 * and decodes it): OpenAI, an OpenAI-compatible provider and the mock forwarded; Gemini translated
 * to embedContent / batchEmbedContents. Metered at the input price; the key's policy applies.
 */

function post(key: string, body: unknown): Promise<Response> {
  return gatewayFetch(`${BASE}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const norm = (v: number[]) => Math.hypot(...v);
const recorded = async (tag: string) => (await mockUpstream.requests()).filter((r) => JSON.stringify(r.body).includes(tag));

async function customProvider(): Promise<string> {
  const name = `embedco-${crypto.randomUUID().slice(0, 8)}`;
  const res = await admin("/providers", { method: "POST", json: { name, type: "openai-compatible", base_url: `${mockUpstream.url()}/openai/v1` } });
  expect(res.status).toBe(201);
  return name;
}

describe("/v1/embeddings", () => {
  it("OpenAI: the SDK's default base64 round-trips to floats; usage metered at $0.02 / 1M", async () => {
    const { id, key } = await createKey();
    const client = sdk(key);
    const { data: result, response } = await client.embeddings
      .create({ model: "text-embedding-3-small", input: ["embed-openai-a1 first", "embed-openai-a1 second text"] })
      .withResponse();
    expect(result.object).toBe("list");
    expect(result.data.map((d) => [d.index, d.embedding.length])).toStrictEqual([
      [0, 1536],
      [1, 1536],
    ]);
    expect(norm(result.data[0]!.embedding)).toBeCloseTo(1, 5);
    // 21 + 27 chars → 6 + 7 tokens; 13 × $0.02 / 1M = 0.26 µ$, rounded up to 1 µ$.
    // usage.cost: the charged USD, the same as the header (issue 18).
    expect(result.usage).toStrictEqual({ prompt_tokens: 13, total_tokens: 13, cost: 0.000001 });
    expect(response.headers.get("x-keyforge-cost-usd")).toBe("0.000001");
    const [upstream] = await recorded("embed-openai-a1");
    expect(upstream).toMatchObject({ provider: "openai", path: "/v1/embeddings", body: { model: "text-embedding-3-small", encoding_format: "base64" } });
    expect(await settledUsage(id)).toMatchObject({ tokens: 13, requests: 1 });

    const floats = await client.embeddings.create({
      model: "openai/text-embedding-3-large",
      input: "embed-openai-a1 floats",
      encoding_format: "float",
      dimensions: 256,
    });
    expect(floats.data[0]!.embedding).toHaveLength(256);
  });

  it("Gemini: one text → embedContent, a list → batchEmbedContents; floats and base64; the estimate is metered", async () => {
    const { id, key } = await createKey();
    const client = sdk(key);
    const one = await client.embeddings.create({ model: "gemini-embedding-001", input: "embed-gemini-b2 one" });
    expect(one.data).toHaveLength(1);
    expect(one.data[0]!.embedding).toHaveLength(3072);
    expect(one.model).toBe("gemini-embedding-001");
    // Gemini reports no count: the estimate (19 bytes / 3 → 7) is reported and metered.
    expect(one.usage).toStrictEqual({ prompt_tokens: 7, total_tokens: 7, cost: 0.000002 });
    const batch = await client.embeddings.create({
      model: "google/gemini-embedding-001",
      input: ["embed-gemini-b2 x", "embed-gemini-b2 y", "embed-gemini-b2 z"],
      dimensions: 768,
      encoding_format: "float",
    });
    expect(batch.data.map((d) => [d.index, d.embedding.length])).toStrictEqual([
      [0, 768],
      [1, 768],
      [2, 768],
    ]);
    const paths = (await recorded("embed-gemini-b2")).map((r) => r.path);
    expect(paths).toStrictEqual(["/v1beta/models/gemini-embedding-001:embedContent", "/v1beta/models/gemini-embedding-001:batchEmbedContents"]);
    // The same text embeds to the same vector, whichever call it went through.
    const again = await client.embeddings.create({ model: "gemini-embedding-001", input: ["embed-gemini-b2 one"], encoding_format: "float" });
    expect(again.data[0]!.embedding).toStrictEqual(one.data[0]!.embedding.map((v) => Math.fround(v)));
    const usage = await settledUsage(id);
    expect(usage.requests).toBe(3);
    // gemini-embedding-001 at $0.15 / 1M: charged, never free.
    expect(usage.spend_usd).toBeGreaterThan(0);
  });

  it("an OpenAI-compatible provider and the built-in mock embed too", async () => {
    const { key } = await createKey();
    const client = sdk(key);
    const name = await customProvider();
    await admin("/provider-keys", { method: "POST", json: { provider: name, key: `sk-embedco-${crypto.randomUUID()}` } });
    const custom = await client.embeddings.create({ model: `${name}/bge-small`, input: "embed-custom-c3" });
    expect(custom.data[0]!.embedding).toHaveLength(1536);
    expect((await recorded("embed-custom-c3"))[0]!.body).toMatchObject({ model: "bge-small" });
    const mock = await client.embeddings.create({ model: "mock/echo", input: [[1, 2, 3]] });
    expect(mock.usage.prompt_tokens).toBe(3);
  });

  it("refuses what cannot be embedded with a 400 naming the param, before any upstream call", async () => {
    const { id, key } = await createKey();
    for (const [body, param] of [
      [{ model: "claude-sonnet-4-6", input: "x" }, "model"],
      [{ model: "gemini-embedding-001", input: [[1, 2]] }, "input"],
      [{ model: "gemini-embedding-001", input: Array.from({ length: 101 }, () => "x") }, "input"],
      [{ model: "text-embedding-3-small", input: "" }, "input"],
      [{ model: "text-embedding-3-small", input: "x", encoding_format: "int8" }, "encoding_format"],
    ] as const) {
      const res = await post(key, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { type: string; param: string } }).error).toMatchObject({ type: "invalid_request_error", param });
    }
    expect((await settledUsage(id)).requests).toBe(0);
  });

  it("model allow-list and revocation", async () => {
    const { id, key } = await createKey({ models: ["gemini-*"] });
    const denied = await post(key, { model: "text-embedding-3-small", input: "embed-allow-d4" });
    expect(denied.status).toBe(403);
    expect(await recorded("embed-allow-d4")).toStrictEqual([]);
    expect((await post(key, { model: "gemini-embedding-001", input: "embed-allow-d4" })).status).toBe(200);
    await admin(`/keys/${id}/revoke`, { method: "POST" });
    const revoked = await post(key, { model: "gemini-embedding-001", input: "embed-allow-d4" });
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { error: { code: string } }).error.code).toBe("key_revoked");
  });

  it("spend cap under concurrency: 40 parallel requests never overspend it", async () => {
    // Each request: 3,000 bytes → 1,000 estimated tokens at $0.13 / 1M = 130 µ$ reserved; the cap fits 7.
    const { id, key } = await createKey({ spend_cap_usd: 0.001 });
    const body = { model: "text-embedding-3-large", input: `embed-cap-e5 ${"y".repeat(2987)}`, dimensions: 8 };
    const responses = await Promise.all(Array.from({ length: 40 }, () => post(key, body)));
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.text()));
    expect(statuses.filter((s) => s !== 200 && s !== 402)).toStrictEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(7);
    expect(statuses.filter((s) => s === 402).length).toBeGreaterThan(0);
    const usage = await settledUsage(id);
    expect(usage.spend_usd).toBeLessThanOrEqual(0.001);
  });

  it("429 pool rotation: a rate-limited key is skipped, every request succeeds", async () => {
    const name = await customProvider();
    const keys = [`sk-embed-rot-a-${crypto.randomUUID()}`, `sk-embed-rot-b-${crypto.randomUUID()}`];
    for (const [i, k] of keys.entries()) await admin("/provider-keys", { method: "POST", json: { provider: name, key: k, scope: `org-${i}` } });
    await mockUpstream.script({
      key: keys[0],
      status: 429,
      headers: { "retry-after": "30" },
      body: { error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } },
    });
    const { key } = await createKey();
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => post(key, { model: `${name}/e5`, input: `embed-rot-f6 ${i}` }).then((r) => r.status)),
    );
    expect(statuses).toStrictEqual(Array(10).fill(200));
    const used = (await recorded("embed-rot-f6")).map((r) => r.key);
    expect(used).toContain(keys[0]);
    expect(used.filter((k) => k === keys[1])).toHaveLength(10);
  });

  it("audit: one entry per request with endpoint 'embeddings', and the chain verifies", async () => {
    const { id, key } = await createKey();
    await sdk(key).embeddings.create({ model: "gemini-embedding-001", input: "embed-audit-g7" });
    await settledUsage(id);
    const entries = await requestEntries(id);
    expect(entries.map((e) => [e.endpoint, e.model, e.status, e.completion_tokens])).toStrictEqual([["embeddings", "gemini/gemini-embedding-001", 200, 0]]);
    expect((await verifyAudit(id)).valid).toBe(true);
  });
});
