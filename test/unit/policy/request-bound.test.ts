import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Policy } from "../../../src/keys/types";
import { chatCompletionRequestSchema } from "../../../src/openai/schema";
import { decideAdmission } from "../../../src/policy/admission";
import { worstCaseCostMicros } from "../../../src/pricing/price";
import { boundRequest, estimatePromptTokens, imageTokens } from "../../../src/proxy/estimate";
import { unboundedField } from "../../../src/proxy/unbounded-fields";

const parse = (body: Record<string, unknown>) => chatCompletionRequestSchema.parse({ model: "m", messages: [{ role: "user", content: "hi" }], ...body });
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

describe("the prompt bound: every forwarded byte", () => {
  it("is the whole body's UTF-8 bytes / 3, whatever field carries the text", () => {
    const text = "z".repeat(30_000);
    const base = estimatePromptTokens(parse({}), "m");
    for (const extra of [
      { functions: [{ name: "f", description: text }] },
      { prediction: { type: "content", content: text } },
      { tools: [{ type: "function", function: { name: "f", description: text } }] },
      { metadata: { note: text } },
      { x_anything: [text] },
    ]) {
      const request = parse(extra);
      expect(estimatePromptTokens(request, "m")).toBe(Math.ceil(bytes(request) / 3));
      expect(estimatePromptTokens(request, "m")).toBeGreaterThan(base + 10_000);
    }
  });

  it("counts an image as a fixed allowance, not its base64 text", () => {
    const image = { type: "image_url", image_url: { url: `data:image/png;base64,${"A".repeat(3_000_000)}` } };
    const request = parse({ messages: [{ role: "user", content: [{ type: "text", text: "what is this?" }, image, image] }] });
    const tokens = estimatePromptTokens(request, "gpt-4o");
    expect(tokens).toBeGreaterThanOrEqual(2 * imageTokens("gpt-4o"));
    expect(tokens).toBeLessThan(2 * imageTokens("gpt-4o") + 100);
    // gpt-4o-mini bills up to 48,169 tokens for one high-detail image (same dollars as gpt-4o).
    expect(estimatePromptTokens(request, "gpt-4o-mini-2024-07-18")).toBeGreaterThanOrEqual(2 * 48_169);
  });

  it("never counts fewer bytes than the text itself holds (JSON only adds)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        expect(estimatePromptTokens(parse({ messages: [{ role: "user", content: text }] }), "m") * 3).toBeGreaterThanOrEqual(bytes(text));
      }),
      { numRuns: 200 },
    );
  });
});

describe("the output bound", () => {
  it("is n (or best_of) choices of the larger cap, plus a prediction's size", () => {
    expect(boundRequest(parse({ n: 128, max_tokens: 1000 }), "m")).toMatchObject({ maxTokens: 1000, choices: 128, extraOutputTokens: 0 });
    expect(boundRequest(parse({ max_tokens: 10, max_completion_tokens: 500 }), "m").maxTokens).toBe(500);
    expect(boundRequest(parse({ max_tokens: 500, max_completion_tokens: 10 }), "m").maxTokens).toBe(500);
    expect(boundRequest(parse({ n: 2, best_of: 7 }), "m")).toMatchObject({ maxTokens: null, choices: 7 });
    expect(boundRequest(parse({ prediction: { type: "content", content: "p".repeat(299) } }), "m").extraOutputTokens).toBe(101);
    expect(() => parse({ best_of: 0 })).toThrow();
    expect(() => parse({ prediction: { type: "content", content: 5 } })).toThrow();
  });
});

describe("fields that cannot be bounded", () => {
  it.each([
    [{ web_search_options: {} }, "web_search_options", "tokens"],
    [{ messages: [{ role: "user", content: [{ type: "file", file: { file_id: "f" } }] }] }, "messages[0].content[0]", "tokens"],
    [
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "a" },
              { type: "video_url", video_url: { url: "https://x" } },
            ],
          },
        ],
      },
      "messages[0].content[1]",
      "tokens",
    ],
    [{ modalities: ["text", "audio"] }, "modalities", "dollars"],
    [{ audio: { voice: "alloy" } }, "audio", "dollars"],
    [{ service_tier: "priority" }, "service_tier", "dollars"],
    [{ service_tier: 7 }, "service_tier", "dollars"],
  ])("%j → %s (%s)", (body, param, kind) => {
    expect(unboundedField(parse(body))).toMatchObject({ param, kind, message: expect.stringContaining(param) });
  });

  it.each([
    {},
    { service_tier: "flex" },
    { service_tier: null },
    { modalities: ["text"] },
    { messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }] },
  ])("%j is bounded", (body) => expect(unboundedField(parse(body))).toBeNull());
});

describe("admission reserves the whole worst case", () => {
  const open: Policy = { models: [], monthlyTokenQuota: null, spendCapMicros: null, rpm: null, tpm: null, expiresAt: null, revokedAt: null };
  const price = { input: 1_000_000, cachedInput: 100_000, cacheWrite: 1_000_000, output: 2_000_000 };
  const input = { model: "mock/echo", modelNames: ["mock/echo"], promptTokens: 10, maxTokens: 100, modelMaxTokens: null, price };
  const zero = { tokens: 0, spendMicros: 0 };
  const rate = { rpmTat: 0, tpmTat: 0 };
  const now = Date.now();

  it("n × max output + prediction, in tokens and dollars", () => {
    const d = decideAdmission({ ...open, spendCapMicros: 1_000_000 }, zero, zero, rate, { ...input, choices: 128, extraOutputTokens: 50 }, now);
    expect(d).toMatchObject({ ok: true, grant: { tokens: 10 + 128 * 100 + 50, costMicros: 10 + (128 * 100 + 50) * 2 } });
    expect(decideAdmission({ ...open, monthlyTokenQuota: 12_859 }, zero, zero, rate, { ...input, choices: 128, extraOutputTokens: 50 }, now)).toMatchObject({
      ok: false,
      code: "quota_exceeded",
    });
  });

  it("a TPM key's injected cap is shared by the choices", () => {
    const d = decideAdmission({ ...open, tpm: 1000 }, zero, zero, rate, { ...input, maxTokens: null, choices: 4 }, now);
    // (1000 − 10) / 4 = 247 per choice: 10 + 4 × 247 = 998 ≤ 1000.
    expect(d).toMatchObject({ ok: true, grant: { injectMaxTokens: 247, tokens: 998 } });
    const tooMany = decideAdmission({ ...open, tpm: 100 }, zero, zero, rate, { ...input, maxTokens: null, choices: 128 }, now);
    expect(tooMany).toMatchObject({ ok: false, code: "rate_limit_exceeded" });
  });

  it("refuses an unbounded field only where a cap of its kind applies", () => {
    const tokens = { param: "web_search_options", kind: "tokens" as const, message: "no" };
    const dollars = { param: "service_tier", kind: "dollars" as const, message: "no" };
    expect(decideAdmission(open, zero, zero, rate, { ...input, unbounded: tokens }, now).ok).toBe(true);
    expect(decideAdmission({ ...open, tpm: 10_000 }, zero, zero, rate, { ...input, unbounded: tokens }, now)).toMatchObject({
      ok: false,
      code: "invalid_request",
    });
    expect(decideAdmission({ ...open, tpm: 10_000 }, zero, zero, rate, { ...input, unbounded: dollars }, now).ok).toBe(true);
    expect(decideAdmission({ ...open, spendCapMicros: 10_000 }, zero, zero, rate, { ...input, unbounded: dollars }, now)).toMatchObject({
      ok: false,
      code: "invalid_request",
    });
  });

  it("the reservation bounds any usage within the caps (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 128 }),
        fc.integer({ min: 0, max: 500 }),
        (prompt, cap, choices, extra) => {
          const d = decideAdmission(
            { ...open, spendCapMicros: 10 ** 12 },
            zero,
            zero,
            rate,
            { ...input, promptTokens: prompt, maxTokens: cap, choices, extraOutputTokens: extra },
            now,
          );
          expect(d.ok).toBe(true);
          if (!d.ok) return;
          expect(d.grant.tokens).toBeGreaterThanOrEqual(prompt + cap * choices + extra);
          expect(d.grant.costMicros).toBeGreaterThanOrEqual(worstCaseCostMicros(price, prompt, cap * choices + extra));
        },
      ),
      { numRuns: 200 },
    );
  });
});
