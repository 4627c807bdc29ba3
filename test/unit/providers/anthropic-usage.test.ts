import { describe, expect, it } from "vitest";
import { mergeUsage, usageFromAnthropic } from "../../../src/providers/anthropic/usage";

describe("Anthropic usage: cache writes by lifetime", () => {
  it("carries the 1-hour part of the writes apart (reference §2.3: cache_creation)", () => {
    const usage = usageFromAnthropic({
      input_tokens: 6,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
      output_tokens: 7,
    });
    expect(usage).toStrictEqual({
      promptTokens: 406,
      completionTokens: 7,
      cachedPromptTokens: 100,
      cacheWriteTokens: 300,
      cacheWrite1hTokens: 200,
      reasoningTokens: 0,
    });
  });

  it("without the breakdown (or with no 1-hour writes) every write is a 5-minute one", () => {
    expect(usageFromAnthropic({ input_tokens: 1, cache_creation_input_tokens: 50 })).not.toHaveProperty("cacheWrite1hTokens");
    expect(
      usageFromAnthropic({ input_tokens: 1, cache_creation_input_tokens: 50, cache_creation: { ephemeral_5m_input_tokens: 50, ephemeral_1h_input_tokens: 0 } }),
    ).toMatchObject({ cacheWriteTokens: 50, promptTokens: 51 });
  });

  it("a breakdown larger than the total is billed, never the smaller count", () => {
    const usage = usageFromAnthropic({
      input_tokens: 1,
      cache_creation_input_tokens: 10,
      cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 30 },
    });
    expect(usage).toMatchObject({ cacheWriteTokens: 40, cacheWrite1hTokens: 30, promptTokens: 41 });
  });

  it("a stream's later usage replaces the breakdown whole", () => {
    const start = { input_tokens: 5, cache_creation_input_tokens: 20, cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 0 } };
    const delta = { output_tokens: 9, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 20 } };
    expect(usageFromAnthropic(mergeUsage(start, delta))).toMatchObject({ cacheWriteTokens: 20, cacheWrite1hTokens: 20, completionTokens: 9 });
  });
});
