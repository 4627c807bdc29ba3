import { describe, expect, it } from "vitest";
import { geminiAdapter } from "../../../src/providers/gemini";
import type { UpstreamFailure } from "../../../src/providers/types";
import errors from "../../fixtures/gemini/errors.json";

interface ErrorCase {
  description: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  want: UpstreamFailure;
}

describe("gemini error classification (fixtures)", () => {
  it.each(errors as unknown as ErrorCase[])("$description", ({ status, headers, body, rawBody, want }) => {
    const failure = geminiAdapter.classifyError(status, new Headers(headers), rawBody ?? JSON.stringify(body));
    expect(failure).toStrictEqual(want);
    // Only short identifiers leave the adapter: never the upstream's message.
    const error = (Array.isArray(body) ? body[0] : body) as { error?: { message?: string } } | undefined;
    if (error?.error?.message) expect(JSON.stringify(failure)).not.toContain(error.error.message);
  });
});
