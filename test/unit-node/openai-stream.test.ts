import { describe, expect, it } from "vitest";
import { MID_STREAM_ERROR_FRAME, STREAM_TIMEOUT_ERROR_FRAME } from "../../src/providers/openai-frames";
import { openAiAdapter } from "../../src/providers/openai/adapter";
import { KEEPALIVE_MS, translateStream } from "../../src/proxy/stream-response";
import { runStream, splitAt, testContext } from "../unit/providers/support";

/**
 * The OpenAI passthrough parses only the chunks that can carry usage, a finish_reason or an error
 * (src/providers/openai/adapter.ts `mustParse`): whatever way an upstream spells those, they are
 * still found; and the pump's single per-stream timer still gives keep-alives and the idle timeout.
 */

const ctx = testContext({ stream: true, includeUsage: true });
const USAGE = '{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}';
const delta = (text: string) =>
  `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}],"usage":null}`;
const FINISH = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}';
const sse = (...datas: string[]) => datas.map((d) => `data: ${d}\n\n`).join("");

function run(text: string, includeUsage = true) {
  const { frames, translator } = runStream(openAiAdapter, testContext({ stream: true, includeUsage }), [text]);
  return { frames, usage: translator.usage() };
}

describe("OpenAI stream passthrough: what must be parsed is parsed", () => {
  it("content deltas pass through as sent; the usage chunk is metered; the output is the same however the bytes are split", () => {
    const text = sse(delta("Hello"), delta(' "usage": {} error finish_reason'), FINISH, `{"id":"c1","choices":[],"usage":${USAGE}}`, "[DONE]");
    const { frames, usage } = run(text);
    expect(frames.join("")).toBe(text);
    expect(usage).toMatchObject({ promptTokens: 11, completionTokens: 7 });
    const bytes = new TextEncoder().encode(text);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      expect(runStream(openAiAdapter, ctx, splitAt(bytes, [cut, Math.min(bytes.length, cut + 131)])).frames).toStrictEqual(frames);
    }
  });

  it.each([
    ["a plain error object", '{"error":{"message":"leaked sk-secret"}}'],
    ["an error key written with a \\u escape", '{"\\u0065rror":{"message":"leaked sk-secret"}}'],
    ["an error key beside content", `${delta("hi").slice(0, -1)},"error":{"message":"leaked sk-secret"}}`],
    ["an error key with spaces", '{ "error" : { "message" : "leaked sk-secret" } }'],
    ["null", "null"],
    ["an array", '[{"message":"leaked sk-secret"}]'],
    ["a chunk cut short", '{"choices":[{"delta":{"content":"leaked sk-secret"'],
    ["not JSON", "leaked sk-secret"],
  ])("%s ends the stream with the gateway's own error frame, nothing of it forwarded", (_name, bad) => {
    const { frames } = run(sse(delta("before"), bad, delta("after"), FINISH, "[DONE]"));
    expect(frames).toStrictEqual([`data: ${delta("before")}\n\n`, MID_STREAM_ERROR_FRAME]);
  });

  it.each([
    ["spaces around the colon", `{"choices":[],"usage" : ${USAGE}}`],
    ["a \\u-escaped key", `{"choices":[],"\\u0075sage":${USAGE}}`],
    ["a null usage key, then the real one", `{"choices":[],"usage":null,"usage":${USAGE}}`],
  ])("usage written with %s is metered, and dropped when the client did not ask for it", (_name, usageChunk) => {
    const text = sse(delta("x"), FINISH, usageChunk, "[DONE]");
    expect(run(text).usage).toMatchObject({ promptTokens: 11, completionTokens: 7 });
    const without = run(text, false);
    expect(without.usage).toMatchObject({ promptTokens: 11, completionTokens: 7 });
    expect(without.frames.join("")).not.toContain("prompt_tokens");
  });

  it("a finish_reason however written completes the stream; a stream without one (nor [DONE]) is truncated", () => {
    for (const finish of [
      '{"choices":[{"index":0,"delta":{},"finish_reason" : "stop"}]}',
      '{"choices":[{"index":0,"delta":{},"\\u0066inish_reason":"length"}]}',
    ]) {
      expect(run(sse(delta("x"), finish)).frames.at(-1)).toBe("data: [DONE]\n\n");
    }
    expect(run(sse(delta("x"), delta("y"))).frames.at(-1)).toBe(MID_STREAM_ERROR_FRAME);
  });
});

describe("the pump: one timer per stream, a push loop into a pipe", () => {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  /** An upstream sending `frames`, waiting `gapsMs[i]` before frame i; `never` stalls for good after them. */
  function upstream(frames: string[], gapsMs: number[], never = false) {
    let i = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i >= frames.length) return never ? new Promise<void>(() => undefined) : controller.close();
        await new Promise((r) => setTimeout(r, gapsMs[i] ?? 0));
        controller.enqueue(encoder.encode(frames[i++]!));
      },
    });
  }
  async function drain(body: ReadableStream<Uint8Array>) {
    let text = "";
    for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
    return text;
  }

  it("keep-alives only while the upstream is silent, one every KEEPALIVE_MS; none between chunks that come quicker", async () => {
    const frames = [sse(delta("a")), sse(delta("b")), sse(FINISH), sse("[DONE]")];
    const abort = new AbortController();
    const { body, done } = translateStream(upstream(frames, [0, 20, KEEPALIVE_MS * 2.5, 20]), openAiAdapter.createStreamTranslator(ctx), abort, {
      idleTimeoutMs: 10_000,
    });
    const text = await drain(body);
    // Only in the 1.25 s silence: two (a third only if the host's timers run late).
    const [before, after] = [frames[0]! + frames[1]!, frames[2]! + frames[3]!];
    expect(text.startsWith(before) && text.endsWith(after)).toBe(true);
    const silence = text.slice(before.length, -after.length);
    expect(silence).toMatch(/^(: keep-alive\n\n){2,3}$/);
    expect((await done).status).toBe(200);
    expect(abort.signal.aborted).toBe(false);
  }, 10_000);

  it("a client already gone when the stream starts: 499 at once, the upstream aborted", async () => {
    const abort = new AbortController();
    const client = new AbortController();
    client.abort();
    const { done } = translateStream(upstream([sse(delta("a"))], [0], true), openAiAdapter.createStreamTranslator(ctx), abort, {
      idleTimeoutMs: 10_000,
      clientGone: client.signal,
    });
    expect((await done).status).toBe(499);
    expect(abort.signal.aborted).toBe(true);
  }, 10_000);

  it("a client that reads nothing holds the upstream back: the pump runs at most a couple of chunks ahead", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled += 1;
          controller.enqueue(encoder.encode(sse(delta(`chunk ${pulled}`))));
        },
      },
      { highWaterMark: 0 },
    );
    const abort = new AbortController();
    const { body, done } = translateStream(endless, openAiAdapter.createStreamTranslator(ctx), abort, { idleTimeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(pulled).toBeLessThanOrEqual(4);
    // Then the client reads: the chunks come in order, none lost while it waited.
    const reader = body.getReader();
    let text = "";
    for (let i = 0; i < 10; i++) text += decoder.decode((await reader.read()).value, { stream: true });
    expect(text).toBe(Array.from({ length: 10 }, (_, i) => sse(delta(`chunk ${i + 1}`))).join(""));
    await reader.cancel();
    expect((await done).status).toBe(499);
    expect(abort.signal.aborted).toBe(true);
  }, 10_000);

  it("a client that cancels mid-stream: 499 with what was metered so far, the upstream aborted", async () => {
    const abort = new AbortController();
    const { body, done } = translateStream(upstream([sse(delta("a")), sse(delta("b"))], [0, 0], true), openAiAdapter.createStreamTranslator(ctx), abort, {
      idleTimeoutMs: 10_000,
    });
    const reader = body.getReader();
    let text = "";
    while (text.length < sse(delta("a")).length + sse(delta("b")).length) text += decoder.decode((await reader.read()).value, { stream: true });
    await reader.cancel();
    const outcome = await done;
    expect(outcome).toMatchObject({ status: 499, outputBytes: encoder.encode(text).byteLength });
    expect(abort.signal.aborted).toBe(true);
  }, 10_000);

  it("the idle timeout settles as 504 even for a client that has stopped reading", async () => {
    const abort = new AbortController();
    const { body, done } = translateStream(upstream([sse(delta("a"))], [0], true), openAiAdapter.createStreamTranslator(ctx), abort, {
      idleTimeoutMs: 300,
    });
    const outcome = await Promise.race([done, new Promise<null>((r) => setTimeout(() => r(null), 3_000))]);
    expect(outcome).toMatchObject({ status: 504 });
    expect(abort.signal.aborted).toBe(true);
    await body.cancel();
  }, 10_000);

  it("an upstream silent past the idle timeout: the timeout frame, the upstream aborted, 504", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const { body, done } = translateStream(upstream([sse(delta("a"))], [0], true), openAiAdapter.createStreamTranslator(ctx), abort, {
      idleTimeoutMs: 300,
    });
    const text = await drain(body);
    expect(text).toBe(sse(delta("a")) + STREAM_TIMEOUT_ERROR_FRAME);
    expect((await done).status).toBe(504);
    expect(abort.signal.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 10_000);
});
