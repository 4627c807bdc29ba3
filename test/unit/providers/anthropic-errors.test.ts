import { afterEach, describe, expect, it, vi } from "vitest";
import { anthropicAdapter } from "../../../src/providers/anthropic";
import type { UpstreamFailure } from "../../../src/providers/types";
import errors from "../../fixtures/anthropic/errors.json";

interface ErrorCase {
  description: string;
  now?: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  want: UpstreamFailure;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("anthropic error classification (fixtures)", () => {
  it.each(errors as unknown as ErrorCase[])("$description", ({ now, status, headers, body, rawBody, want }) => {
    if (now) {
      vi.useFakeTimers();
      vi.setSystemTime(new Date(now));
    }
    const text = rawBody ?? JSON.stringify(body);
    const failure = anthropicAdapter.classifyError(status, new Headers(headers), text);
    expect(failure).toStrictEqual(want);
    // Only short identifiers leave the adapter: never the upstream's message.
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message;
    if (message) expect(JSON.stringify(failure)).not.toContain(message);
  });
});
