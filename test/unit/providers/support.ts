import { SseTranslation } from "../../../src/proxy/sse-translation";
import type { AdapterContext, ProviderAdapter, StreamTranslator } from "../../../src/providers/types";

/** Shared by the provider adapter tests: a fixed context and helpers to run and read SSE. */

export const CREATED = 1_766_000_000;

export function testContext(overrides: Partial<AdapterContext> = {}): AdapterContext {
  return {
    model: "test-model",
    baseUrl: "https://upstream.test",
    apiKey: "sk-test",
    stream: false,
    includeUsage: false,
    defaultMaxTokens: null,
    requestId: "req_test",
    created: CREATED,
    ...overrides,
  };
}

export interface StreamRun {
  frames: string[];
  translator: StreamTranslator;
}

/** Feeds `pieces` (strings or bytes, in order) through SseTranslation and collects every frame. */
export function runStream(adapter: ProviderAdapter, ctx: AdapterContext, pieces: Array<string | Uint8Array>): StreamRun {
  const translator = adapter.createStreamTranslator(ctx);
  const translation = new SseTranslation(translator);
  const encoder = new TextEncoder();
  const frames: string[] = [];
  for (const piece of pieces) frames.push(...translation.feed(typeof piece === "string" ? encoder.encode(piece) : piece));
  frames.push(...translation.end());
  return { frames, translator };
}

/** A frame's payload: the parsed JSON, or "[DONE]". Throws if the frame is not exactly `data: …\n\n`. */
export function payload(frame: string): unknown {
  const match = /^data: (.*)\n\n$/s.exec(frame);
  if (!match || match[1]!.includes("\n")) throw new Error(`not a single-line SSE frame: ${JSON.stringify(frame)}`);
  return match[1] === "[DONE]" ? "[DONE]" : JSON.parse(match[1]!);
}

/** Splits bytes at the given (sorted, unique) offsets. */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    pieces.push(bytes.slice(start, cut));
    start = cut;
  }
  pieces.push(bytes.slice(start));
  return pieces;
}

/** The mock upstreams' control API lives beside the providers, under the test file's namespace. */
export function mockControlUrl(baseUrl: string, route: string): string {
  return `${baseUrl.replace(/\/(openai\/v1|anthropic|gemini)\/?$/, "")}/_mock/${route}`;
}

export async function scriptMock(baseUrl: string, script: Record<string, unknown>): Promise<void> {
  const res = await fetch(mockControlUrl(baseUrl, "script"), { method: "POST", body: JSON.stringify(script) });
  if (!res.ok) throw new Error(`mock script failed: ${res.status}`);
}

export function uniqueKey(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replace(/-/g, "")}`;
}
