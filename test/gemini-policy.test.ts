import { describe, expect, it } from "vitest";
import { allEntries, verifyAudit, waitForEntries } from "./support/audit";
import { admin, createKey } from "./support/gateway";
import { geminiFetch, geminiRequests, geminiSdk, upstreamRequests } from "./support/gemini";
import { settledUsage } from "./support/usage";

/**
 * The Gemini surface under the key's policy, through the front door: the allow-list, a spend cap
 * under concurrency (maxOutputTokens × candidateCount reserved before the call, so nothing
 * overspends), revocation and the audit log (endpoint `generate_content`), all with Gemini-shaped
 * errors. Pool rotation is in gemini-pool.test.ts (its own pool, so the rotation order is known).
 */

const GEMINI = "gemini-2.5-flash";
const generate = (key: string, text: string, extra: Record<string, unknown> = {}, model = GEMINI, method = "generateContent") =>
  geminiFetch(
    `/v1beta/models/${model}:${method}${method === "streamGenerateContent" ? "?alt=sse" : ""}`,
    { contents: [{ role: "user", parts: [{ text }] }], ...extra },
    {
      "x-goog-api-key": key,
    },
  );
type GeminiErrorBody = { error: { code: number; message: string; status: string; details?: Array<Record<string, unknown>> } };

describe("the Gemini surface under the key's policy", () => {
  it("the model allow-list: 403 PERMISSION_DENIED for generate, count and embed; nothing reaches the provider", { timeout: 20_000 }, async () => {
    const { key } = await createKey({ models: ["gemini/gemini-2.5-flash-lite", "mock/*"] });
    expect((await generate(key, "gm-allow-marker ok", {}, "gemini-2.5-flash-lite")).status).toBe(200);
    for (const [model, method] of [
      [GEMINI, "generateContent"],
      ["gpt-4o-mini", "streamGenerateContent"],
      [GEMINI, "countTokens"],
      ["gpt-4o-mini", "countTokens"],
    ] as const) {
      const res = await generate(key, "gm-allow-marker denied", {}, model, method);
      expect(res.status, `${model}:${method}`).toBe(403);
      expect(((await res.json()) as GeminiErrorBody).error).toMatchObject({ code: 403, status: "PERMISSION_DENIED" });
    }
    const embed = await geminiFetch(
      `/v1beta/models/gemini-embedding-001:embedContent`,
      { content: { parts: [{ text: "gm-allow-marker denied" }] } },
      { "x-goog-api-key": key },
    );
    expect(embed.status).toBe(403);
    expect(await upstreamRequests("gm-allow-marker denied")).toEqual([]);
  });

  it("spend cap under concurrency: worst cases (candidateCount included) reserved, never overspent; 402 RESOURCE_EXHAUSTED", { timeout: 30_000 }, async () => {
    // Each request: 4,000 output tokens × $2.50/1M = $0.01 worst case; the cap admits about 3 at once.
    const cap = 0.03;
    const { id, key } = await createKey({ spend_cap_usd: cap });
    const config = { generationConfig: { maxOutputTokens: 4000 } };
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => generate(key, `gm-cap-marker ${i}`, config, GEMINI, i % 2 === 0 ? "streamGenerateContent" : "generateContent")),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 402)).toBe(true);
    for (const res of results) {
      if (res.status === 200) {
        await res.text();
        continue;
      }
      expect(res.headers.get("retry-after")).toBeNull();
      expect(((await res.json()) as GeminiErrorBody).error).toMatchObject({
        code: 402,
        status: "RESOURCE_EXHAUSTED",
        message: expect.stringContaining("spend cap"),
      });
    }
    const usage = await settledUsage(id);
    expect(usage.spend_usd).toBeGreaterThan(0);
    expect(usage.spend_usd).toBeLessThanOrEqual(cap);

    // Four candidates of 4,000 tokens ($0.04) can never fit the cap: denied before the provider, and
    // the SDK (retries on) does not retry it.
    const ai = geminiSdk(key);
    const denied = await ai.models
      .generateContent({
        model: GEMINI,
        contents: "gm-cap-marker candidates",
        config: { maxOutputTokens: 4000, candidateCount: 4, httpOptions: { retryOptions: { attempts: 3 } } },
      })
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 402 });
    expect(await upstreamRequests("gm-cap-marker candidates")).toEqual([]);
  });

  it(
    "a built-in tool is refused on a capped key, allowed on an uncapped one; the output bound a capped key needs is injected",
    { timeout: 20_000 },
    async () => {
      const body = { tools: [{ googleSearch: {} }] };
      const capped = await createKey({ spend_cap_usd: 5 });
      const res = await generate(capped.key, "gm-unbounded-marker", body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as GeminiErrorBody).error).toMatchObject({
        status: "INVALID_ARGUMENT",
        message: expect.stringContaining("tools[0].googleSearch"),
      });
      const open = await createKey();
      expect((await generate(open.key, "gm-unbounded-marker", body)).status).toBe(200);

      // Without maxOutputTokens, a key whose budget cannot cover the model's whole output gets the
      // bound its reservation needs, and nothing else in the body changes; an uncapped key's goes as sent.
      const small = await createKey({ spend_cap_usd: 0.05 });
      expect((await generate(small.key, "gm-inject-marker capped")).status).toBe(200);
      expect((await generate(open.key, "gm-inject-marker open")).status).toBe(200);
      const [capped1] = await geminiRequests("gm-inject-marker capped");
      const { generationConfig, ...rest } = JSON.parse(capped1!.raw) as { generationConfig: { maxOutputTokens: number } };
      expect(rest).toEqual({ contents: [{ role: "user", parts: [{ text: "gm-inject-marker capped" }] }] });
      expect(generationConfig.maxOutputTokens).toBeGreaterThan(0);
      const [open1] = await geminiRequests("gm-inject-marker open");
      expect(open1!.raw).toBe(JSON.stringify({ contents: [{ role: "user", parts: [{ text: "gm-inject-marker open" }] }] }));
    },
  );

  it("revocation takes effect on the next request, for the header and the ?key= form", { timeout: 20_000 }, async () => {
    const { id, key } = await createKey();
    expect((await generate(key, "gm-revoke-marker before")).status).toBe(200);
    expect((await admin(`/keys/${id}/revoke`, { method: "POST" })).status).toBe(200);
    const header = await generate(key, "gm-revoke-marker after");
    const query = await geminiFetch(`/v1beta/models/${GEMINI}:generateContent?key=${key}`, { contents: [{ parts: [{ text: "gm-revoke-marker after" }] }] });
    for (const res of [header, query]) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as GeminiErrorBody).error).toMatchObject({ code: 401, status: "UNAUTHENTICATED", message: "This API key has been revoked." });
    }
    expect(await upstreamRequests("gm-revoke-marker after")).toEqual([]);
  });

  it("audit: one entry per request with its endpoint, metered from usageMetadata; the chain verifies", { timeout: 30_000 }, async () => {
    const { id, key } = await createKey();
    expect((await generate(key, "gm-audit-marker buffered")).status).toBe(200);
    const streamed = await generate(key, "gm-audit-marker streamed", {}, GEMINI, "streamGenerateContent");
    await streamed.text();
    expect((await generate(key, "gm-audit-marker gpt", {}, "gpt-4o-mini")).status).toBe(200);
    expect((await generate(key, "gm-audit-marker count", {}, GEMINI, "countTokens")).status).toBe(200);
    const embed = await geminiFetch(
      `/v1beta/models/gemini-embedding-001:embedContent`,
      { content: { parts: [{ text: "gm-audit-marker embed" }] } },
      { "x-goog-api-key": key },
    );
    expect(embed.status).toBe(200);
    // Thinking and cached tokens count: thoughts as output, cached input at the cached rate.
    const thinking = await generate(key, "gm-audit-marker think", {
      systemInstruction: { parts: [{ text: "MOCK_CACHED system prompt" }] },
      generationConfig: { thinkingConfig: { thinkingBudget: 512 } },
    });
    const thought = (await thinking.json()) as { usageMetadata: { thoughtsTokenCount: number; candidatesTokenCount: number; cachedContentTokenCount: number } };
    expect(thought.usageMetadata.thoughtsTokenCount).toBeGreaterThan(0);
    expect(thought.usageMetadata.cachedContentTokenCount).toBeGreaterThan(0);
    await waitForEntries(id, 6);

    // Request entries only (admin changes to the key are logged in the same chain).
    const all = await allEntries(id);
    const entries = all.filter((e) => e.kind !== "admin");
    expect(entries.map((e) => [e.endpoint, e.model, e.status, e.stream])).toEqual([
      ["generate_content", `gemini/${GEMINI}`, 200, false],
      ["generate_content", `gemini/${GEMINI}`, 200, true],
      ["generate_content", "openai/gpt-4o-mini", 200, false],
      ["count_tokens", `gemini/${GEMINI}`, 200, false],
      ["embeddings", "gemini/gemini-embedding-001", 200, false],
      ["generate_content", `gemini/${GEMINI}`, 200, false],
    ]);
    expect(entries[3]!.cost_micros).toBe(0);
    expect(entries[0]!.cost_micros).toBeGreaterThan(0);
    expect(entries[5]!.completion_tokens).toBe(thought.usageMetadata.candidatesTokenCount + thought.usageMetadata.thoughtsTokenCount);
    expect(await verifyAudit(id)).toMatchObject({ valid: true, entries: all.length, first_invalid_seq: null });
  });
});
