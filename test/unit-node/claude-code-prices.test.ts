import { describe, expect, it } from "vitest";
import { BUILTIN_PRICES, lookupPrice } from "../../src/pricing/catalogue";

/**
 * Claude Code picks its own model names (the opus / sonnet / haiku aliases of the installed release)
 * unless ANTHROPIC_MODEL says otherwise. The README's recipe gives it a key with a spend cap, and a
 * capped key refuses an unpriced model — which Claude Code reports as "Failed to authenticate". So
 * the names the current release sends (2.1.197, read from its binary) must be priced.
 */
const CLAUDE_CODE_DEFAULTS = ["claude-opus-4-8", "claude-sonnet-5", "claude-haiku-4-5"];

describe("Claude Code's default models", () => {
  it.each(CLAUDE_CODE_DEFAULTS)("%s is priced", (model) => {
    expect(lookupPrice(BUILTIN_PRICES.anthropic, model)).not.toBeNull();
  });
});
