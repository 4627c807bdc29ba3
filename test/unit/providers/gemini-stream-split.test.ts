import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { geminiAdapter } from "../../../src/providers/gemini";
import { BLOCKED_STREAM, ERROR_STREAM, TEXT_STREAM, TOOLS_STREAM, TWO_CANDIDATES_STREAM } from "../../fixtures/gemini/streams";
import { runStream, splitAt, testContext } from "./support";

const ctx = testContext({ model: "gemini-2.5-flash", stream: true, includeUsage: true });

describe("gemini stream (CRLF): byte splits do not change the output", () => {
  it.each([
    ["reference text", TEXT_STREAM],
    ["tools + thoughts + multi-byte text", TOOLS_STREAM],
    ["mid-stream error", ERROR_STREAM],
    ["blocked prompt", BLOCKED_STREAM],
    ["two candidates", TWO_CANDIDATES_STREAM],
  ])("%s", (_name, text) => {
    expect(text).toContain("\r\n\r\n");
    const bytes = new TextEncoder().encode(text);
    const whole = runStream(geminiAdapter, ctx, [bytes]).frames;
    expect(whole.length).toBeGreaterThanOrEqual(2);
    const cuts = fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }).map((c) => c.sort((a, b) => a - b));
    fc.assert(
      fc.property(cuts, (offsets) => {
        expect(runStream(geminiAdapter, ctx, splitAt(bytes, offsets)).frames).toStrictEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it("splits exactly between CR and LF give the same output", () => {
    const bytes = new TextEncoder().encode(TOOLS_STREAM);
    const crlfCuts = [...bytes.keys()].filter((i) => bytes[i - 1] === 13 && bytes[i] === 10);
    expect(crlfCuts.length).toBeGreaterThan(0);
    const whole = runStream(geminiAdapter, ctx, [bytes]).frames;
    expect(runStream(geminiAdapter, ctx, splitAt(bytes, crlfCuts)).frames).toStrictEqual(whole);
  });
});
