import { describe, expect, it } from "vitest";
import { isModelAllowed } from "../../src/policy/model-glob";
import { modelNames } from "../../src/providers/registry";

/** Allow-list names come from the resolved provider and model, never from the text the agent sent. */
describe("modelNames", () => {
  it.each([
    ["openai", "gpt-4o-mini", ["openai/gpt-4o-mini", "gpt-4o-mini"]],
    ["anthropic", "claude-sonnet-4-6", ["anthropic/claude-sonnet-4-6", "claude-sonnet-4-6"]],
    ["gemini", "gemini-2.5-flash", ["gemini/gemini-2.5-flash", "google/gemini-2.5-flash", "gemini-2.5-flash"]],
    ["mock", "echo", ["mock/echo"]],
    ["relay", "openai/gpt-4o-mini", ["relay/openai/gpt-4o-mini"]],
    ["relay", "gpt-4o-mini", ["relay/gpt-4o-mini"]],
    ["openai", "ft:gpt-4o:org/x", ["openai/ft:gpt-4o:org/x"]],
  ])("%s + %s answers to %j", (provider, model, names) => {
    expect(modelNames(provider, model)).toEqual(names);
  });

  it("no pattern for one provider admits another provider's model", () => {
    const relay = modelNames("relay", "openai/gpt-5-pro");
    for (const pattern of ["openai/*", "openai/gpt-5-pro", "gpt-*", "gpt-5-pro", "google/*"]) expect(isModelAllowed([pattern], relay)).toBe(false);
    expect(isModelAllowed(["relay/*"], relay)).toBe(true);
    expect(isModelAllowed(["*"], relay)).toBe(true);
  });
});
