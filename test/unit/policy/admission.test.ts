import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Policy } from "../../../src/keys/types";
import { decideAdmission } from "../../../src/policy/admission";
import { isModelAllowed, isValidModelPattern, matchesPattern } from "../../../src/policy/model-glob";
import { periodOf } from "../../../src/policy/period";

const open: Policy = { models: [], monthlyTokenQuota: null, spendCapMicros: null, rpm: null, tpm: null, expiresAt: null, revokedAt: null };
const price = { input: 1_000_000, cachedInput: 100_000, cacheWrite: 1_000_000, output: 2_000_000 };
const input = { model: "mock/echo", modelNames: ["mock/echo", "echo"], promptTokens: 10, maxTokens: 100, modelMaxTokens: null, price };
const zero = { tokens: 0, spendMicros: 0 };
const rate = { rpmTat: 0, tpmTat: 0 };
const NOW = Date.UTC(2026, 10, 27, 12);

describe("admission decision", () => {
  it("reserves prompt estimate + max tokens at the model's prices", () => {
    const d = decideAdmission(open, zero, zero, rate, input, NOW);
    expect(d).toMatchObject({ ok: true, grant: { tokens: 110, costMicros: 10 + 200, injectMaxTokens: null } });
  });

  it("injects a default cap only when the policy needs a bounded worst case", () => {
    const unbounded = decideAdmission(open, zero, zero, rate, { ...input, maxTokens: null }, NOW);
    expect(unbounded).toMatchObject({ ok: true, grant: { tokens: 10, injectMaxTokens: null } });
    const capped = decideAdmission({ ...open, spendCapMicros: 1_000_000 }, zero, zero, rate, { ...input, maxTokens: null }, NOW);
    expect(capped).toMatchObject({ ok: true, grant: { tokens: 4106, injectMaxTokens: 4096 } });
    const smallTpm = decideAdmission({ ...open, tpm: 500 }, zero, zero, rate, { ...input, maxTokens: null }, NOW);
    expect(smallTpm).toMatchObject({ ok: true, grant: { tokens: 500, injectMaxTokens: 490 } });
  });

  it.each([
    [{ revokedAt: NOW - 1 }, "key_revoked"],
    [{ expiresAt: NOW }, "key_expired"],
    [{ models: ["gpt-*"] }, "model_not_allowed"],
    [{ monthlyTokenQuota: 109 }, "quota_exceeded"],
    [{ spendCapMicros: 209 }, "spend_cap_exceeded"],
  ] as Array<[Partial<Policy>, string]>)("denies %j with %s", (patch, code) => {
    expect(decideAdmission({ ...open, ...patch }, zero, zero, rate, input, NOW)).toMatchObject({ ok: false, code });
  });

  it("counts used and reserved against the quota and the cap, exactly at the edge", () => {
    const policy = { ...open, monthlyTokenQuota: 1000, spendCapMicros: 10_000 };
    expect(decideAdmission(policy, { tokens: 800, spendMicros: 0 }, { tokens: 90, spendMicros: 0 }, rate, input, NOW).ok).toBe(true);
    expect(decideAdmission(policy, { tokens: 800, spendMicros: 0 }, { tokens: 91, spendMicros: 0 }, rate, input, NOW)).toMatchObject({
      ok: false,
      code: "quota_exceeded",
    });
    expect(decideAdmission(policy, { tokens: 0, spendMicros: 9_000 }, { tokens: 0, spendMicros: 790 }, rate, input, NOW).ok).toBe(true);
    expect(decideAdmission(policy, { tokens: 0, spendMicros: 9_000 }, { tokens: 0, spendMicros: 791 }, rate, input, NOW)).toMatchObject({
      ok: false,
      code: "spend_cap_exceeded",
    });
  });

  it("refuses an unpriced model on a key with a spend cap", () => {
    expect(decideAdmission({ ...open, spendCapMicros: 5 }, zero, zero, rate, { ...input, price: null }, NOW)).toMatchObject({
      ok: false,
      code: "model_not_allowed",
    });
  });

  it("reports rate-limit state and a retry time when RPM is exhausted", () => {
    const policy = { ...open, rpm: 2 };
    const first = decideAdmission(policy, zero, zero, rate, input, NOW);
    if (!first.ok) throw new Error("expected ok");
    expect(first.info).toMatchObject({ limitRequests: 2, remainingRequests: 1 });
    const second = decideAdmission(policy, zero, zero, first.grant.rate, input, NOW);
    if (!second.ok) throw new Error("expected ok");
    const third = decideAdmission(policy, zero, zero, second.grant.rate, input, NOW);
    expect(third).toMatchObject({ ok: false, code: "rate_limit_exceeded", retryAfterMs: 30_000, info: { remainingRequests: 0 } });
  });
});

describe("model allow-lists", () => {
  it("matches exact names and globs against every name of the model", () => {
    expect(isModelAllowed([], ["anything"])).toBe(true);
    expect(isModelAllowed(["gpt-*"], ["gpt-4o", "openai/gpt-4o"])).toBe(true);
    expect(isModelAllowed(["anthropic/*"], ["claude-sonnet-4-6", "anthropic/claude-sonnet-4-6"])).toBe(true);
    expect(isModelAllowed(["anthropic/*"], ["gpt-4o", "openai/gpt-4o"])).toBe(false);
    expect(isModelAllowed(["gpt-4o"], ["gpt-4o-mini"])).toBe(false);
    expect(isModelAllowed(["*-mini"], ["gpt-4o-mini"])).toBe(true);
    expect(isModelAllowed(["gpt-4.1"], ["gpt-441"])).toBe(false);
  });

  it("validates patterns", () => {
    expect(isValidModelPattern("gpt-*")).toBe(true);
    expect(isValidModelPattern("anthropic/claude-*")).toBe(true);
    expect(isValidModelPattern("a**")).toBe(false);
    expect(isValidModelPattern("has space")).toBe(false);
    expect(isValidModelPattern("")).toBe(false);
  });
});

describe("billing period", () => {
  it("rolls over at the UTC month boundary", () => {
    expect(periodOf(Date.UTC(2026, 0, 31, 23, 59, 59, 999))).toBe("2026-01");
    expect(periodOf(Date.UTC(2026, 1, 1))).toBe("2026-02");
    expect(periodOf(Date.UTC(2026, 11, 31, 23, 59, 59))).toBe("2026-12");
  });
});

describe("glob matching", () => {
  const reference = (pattern: string, name: string) =>
    new RegExp(
      `^${pattern
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    ).test(name);

  it("agrees with the regular-expression definition (property)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*]{0,8}$/), fc.stringMatching(/^[ab]{0,12}$/), (pattern, name) => {
        expect(matchesPattern(pattern, name)).toBe(reference(pattern, name));
      }),
      { numRuns: 2000 },
    );
  });

  it("answers at once on patterns that make backtracking regexes explode", () => {
    // A regex-based matcher takes minutes here (the test would time out); the linear one, microseconds.
    expect(matchesPattern("*a*a*a*a*a*a*a*b", "a".repeat(10_000))).toBe(false);
    expect(isValidModelPattern("*a*a*a*a*a*a*a*a*b")).toBe(false);
  });
});
