import { describe, expect, it } from "vitest";
import type { Policy } from "../../src/keys/types";
import { decideAdmission, MIN_INJECTED_MAX_TOKENS } from "../../src/policy/admission";
import { maxOutputTokens } from "../../src/pricing/max-output";
import { worstCaseCostMicros } from "../../src/pricing/price";
import { withUsageCost } from "../../src/proxy/usage-cost";

/** Issue 18: the default output bound is the model's maximum, lowered only as far as the caps require; cost spliced into usage. */

const open: Policy = { models: [], monthlyTokenQuota: null, spendCapMicros: null, rpm: null, tpm: null, expiresAt: null, revokedAt: null };
// gpt-4o-mini's list price, µ$ per 1M tokens.
const price = { input: 150_000, cachedInput: 75_000, cacheWrite: 150_000, output: 600_000 };
const input = { model: "openai/gpt-4o-mini", modelNames: ["openai/gpt-4o-mini"], promptTokens: 20, maxTokens: null, modelMaxTokens: 16_384, price };
const zero = { tokens: 0, spendMicros: 0 };
const rate = { rpmTat: 0, tpmTat: 0 };
const now = Date.now();

const grant = (policy: Partial<Policy>, over: Record<string, unknown> = {}, used = zero) => {
  const d = decideAdmission({ ...open, ...policy }, used, zero, rate, { ...input, ...over }, now);
  if (!d.ok) throw new Error(`denied: ${d.code}`);
  return d.grant;
};

describe("the catalogue's maximum output", () => {
  it("knows the bundled models and their dated snapshots, and nothing by prefix", () => {
    expect(maxOutputTokens("openai", "gpt-4o-mini")).toBe(16_384);
    expect(maxOutputTokens("openai", "gpt-4o-mini-2024-07-18")).toBe(16_384);
    expect(maxOutputTokens("openai", "gpt-4o-2024-05-13")).toBe(4_096);
    expect(maxOutputTokens("anthropic", "claude-sonnet-4-6")).toBe(64_000);
    expect(maxOutputTokens("gemini", "gemini-2.5-flash")).toBe(65_536);
    expect(maxOutputTokens("openai", "gpt-4o-mini-custom")).toBeNull();
    expect(maxOutputTokens("mock", "echo")).toBeNull();
    expect(maxOutputTokens("openai", "constructor")).toBeNull();
  });
});

describe("output bound for a request without max_tokens", () => {
  it("a cap that covers the model's maximum: nothing injected, the maximum reserved", () => {
    const g = grant({ spendCapMicros: 5_000_000 });
    expect(g.injectMaxTokens).toBeNull();
    expect(g.tokens).toBe(20 + 16_384);
  });

  it("a cap that does not: the largest bound that fits, injected", () => {
    const g = grant({ spendCapMicros: 5_000 });
    expect(g.injectMaxTokens).toBeGreaterThan(MIN_INJECTED_MAX_TOKENS);
    expect(g.injectMaxTokens).toBeLessThan(16_384);
    expect(worstCaseCostMicros(price, 20, g.injectMaxTokens!)).toBeLessThanOrEqual(5_000);
    expect(worstCaseCostMicros(price, 20, g.injectMaxTokens! + 1)).toBeGreaterThan(5_000);
    // What is already spent lowers it further; a quota lowers it in tokens.
    expect(grant({ spendCapMicros: 5_000 }, {}, { tokens: 0, spendMicros: 4_000 }).injectMaxTokens).toBeLessThan(g.injectMaxTokens!);
    expect(grant({ monthlyTokenQuota: 1_000 }).injectMaxTokens).toBe(980);
  });

  it("too little room for a useful bound: refused as over the cap", () => {
    const d = decideAdmission({ ...open, spendCapMicros: 10 }, zero, zero, rate, input, now);
    expect(d).toMatchObject({ ok: false, code: "spend_cap_exceeded" });
  });

  it("Anthropic requires the field: the model's maximum is injected, capped key or not", () => {
    const over = { modelMaxTokens: 64_000, maxTokensRequired: true };
    expect(grant({}, over).injectMaxTokens).toBe(64_000);
    expect(grant({ spendCapMicros: 5_000_000 }, over).injectMaxTokens).toBe(64_000);
  });

  it("an unknown model's maximum: the documented fallback (4096) on a capped key, nothing on an uncapped one", () => {
    expect(grant({ spendCapMicros: 5_000_000 }, { modelMaxTokens: null }).injectMaxTokens).toBe(4096);
    expect(grant({}, { modelMaxTokens: null }).injectMaxTokens).toBeNull();
  });

  it("default_max_tokens: injected (never above the model's maximum), still lowered to fit", () => {
    expect(grant({ defaultMaxTokens: 1000 }).injectMaxTokens).toBe(1000);
    expect(grant({ defaultMaxTokens: 1000, spendCapMicros: 5_000_000 }).injectMaxTokens).toBe(1000);
    expect(grant({ defaultMaxTokens: 1_000_000, spendCapMicros: 5_000_000 }).injectMaxTokens).toBe(16_384);
    expect(grant({ defaultMaxTokens: 5_000, monthlyTokenQuota: 1_000 }).injectMaxTokens).toBe(980);
  });

  it("a client's own max_tokens is never changed", () => {
    expect(grant({ spendCapMicros: 5_000_000 }, { maxTokens: 100 } as never)).toMatchObject({ injectMaxTokens: null, tokens: 120 });
  });
});

describe("soft cap mode", () => {
  const soft: Partial<Policy> = { capMode: "soft", spendCapMicros: 1_000 };

  it("injects nothing and admits while spent < cap, whatever is in flight", () => {
    const d = decideAdmission({ ...open, ...soft }, { tokens: 0, spendMicros: 999 }, { tokens: 10 ** 9, spendMicros: 10 ** 9 }, rate, input, now);
    expect(d).toMatchObject({ ok: true, grant: { injectMaxTokens: null } });
    expect(decideAdmission({ ...open, ...soft }, { tokens: 0, spendMicros: 1_000 }, zero, rate, input, now)).toMatchObject({
      ok: false,
      code: "spend_cap_exceeded",
    });
  });

  it("stays exact where a limit needs each request's worst case (TPM, a shared budget)", () => {
    expect(grant({ ...soft, spendCapMicros: 5_000, tpm: 1_000_000 }).injectMaxTokens).toBeLessThan(16_384);
    expect(grant({ ...soft, spendCapMicros: 5_000, budgetId: "bud_x" }).injectMaxTokens).toBeLessThan(16_384);
  });
});

describe("usage.cost spliced into JSON text", () => {
  it("adds one member to the usage object and leaves every other byte as it was", () => {
    const text =
      '{"id":"msg_1","content":[{"type":"thinking","thinking":"a \\"usage\\": {}","signature":"EqQB+/="}],"usage": {"input_tokens":5,"output_tokens":7} ,"x":1}';
    const out = withUsageCost(text, ["usage"], 0.000123)!;
    expect(out).toBe(text.replace('"output_tokens":7}', '"output_tokens":7,"cost":0.000123}'));
    expect(JSON.parse(out).usage.cost).toBe(0.000123);
  });

  it("nested paths, empty objects, an existing cost replaced, and no usage object left alone", () => {
    expect(withUsageCost('{"type":"response.completed","response":{"usage":{}}}', ["response", "usage"], 1.5)).toBe(
      '{"type":"response.completed","response":{"usage":{"cost":1.5}}}',
    );
    expect(withUsageCost('{"usage":{"cost":9,"a":1}}', ["usage"], 0.5)).toBe('{"usage":{"cost":0.5,"a":1}}');
    expect(withUsageCost('{"usage":null}', ["usage"], 1)).toBeNull();
    expect(withUsageCost('{"input_tokens":3}', ["usage"], 1)).toBeNull();
    expect(withUsageCost("not json", ["usage"], 1)).toBeNull();
  });
});
