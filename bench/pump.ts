import { handleMockRequest } from "../src/providers/mock/mock-upstream";
import { openAiAdapter } from "../src/providers/openai/adapter";
import type { AdapterContext } from "../src/providers/types";
import { SseTranslation } from "../src/proxy/sse-translation";
import { translateStream } from "../src/proxy/stream-response";
import { costComment, costingTranslator } from "../src/proxy/usage-cost";
import { requestBody } from "./workload";

/**
 * Micro-benchmark of the streaming pump alone (no workerd, no network, no Durable Object):
 * `npm run bench:pump [-- --quick]`. An OpenAI-format upstream, one SSE frame per upstream chunk
 * (as the bench's mock sends them), through what src/proxy/gateway-call.ts wires for a streamed
 * chat request: the OpenAI translator wrapped by the cost annotator, `translateStream` with the
 * idle timeout, the client signal and the cost trailer; the body read to its end.
 *   pump         the whole thing (ReadableStreams, timers, parse, translate, encode)
 *   translation  `SseTranslation.feed` alone (decode, SSE parse, translator, cost annotation)
 * Two answers: the bench's own 9-frame stream (KeyForge's mock, usage chunk and [DONE] included) and
 * a 200-frame one of the same shape (a longer answer, one token per frame). Reported as wall µs per
 * frame, median of rounds; Node's JIT is not workerd's, but both are V8, so the ratios carry.
 */

const quick = process.argv.includes("--quick");
const encoder = new TextEncoder();

async function benchFrames(): Promise<string[]> {
  const res = await handleMockRequest(new Request("http://mock/v1/chat/completions", { method: "POST", body: requestBody("chat", true) }));
  const text = await res.text();
  return text.split(/(?<=\n\n)/).filter((f) => f.length > 0);
}

/** A `frames`-long answer: the mock's first frame, content deltas like its own, its finish, usage and [DONE] frames. */
function longFrames(nine: string[], frames: number): string[] {
  const content = nine.find((f) => f.includes('"content":"') && !f.includes('"role"'))!;
  const tail = nine.slice(-3); // finish_reason, usage, [DONE]
  const body = Array.from({ length: frames - 1 - tail.length }, (_, i) => content.replace(/"content":"[^"]*"/, `"content":" word${i}"`));
  return [nine[0]!, ...body, ...tail];
}

const ctx: AdapterContext = {
  model: "gpt-4o-mini",
  baseUrl: "http://mock",
  apiKey: "sk-bench",
  stream: true,
  includeUsage: true,
  defaultMaxTokens: null,
  requestId: "req_bench",
  created: 1,
};
const price = () => 123;

function translator() {
  return costingTranslator(openAiAdapter.createStreamTranslator(ctx), "chat", price);
}

function upstreamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

async function pumpOnce(chunks: Uint8Array[]): Promise<number> {
  const abort = new AbortController();
  const client = new AbortController();
  const { body, done } = translateStream(upstreamOf(chunks), translator(), abort, {
    idleTimeoutMs: 30_000,
    clientGone: client.signal,
    trailer: () => costComment(123),
  });
  const reader = body.getReader();
  let bytes = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
  const outcome = await done;
  if (outcome.status !== 200 || !outcome.usage) throw new Error(`pump ended ${outcome.status}`);
  return bytes;
}

function translateOnce(chunks: Uint8Array[]): number {
  const translation = new SseTranslation(translator());
  let frames = 0;
  for (const chunk of chunks) frames += translation.feed(chunk).length;
  frames += translation.end().length;
  if (translation.failed) throw new Error("translation failed");
  return frames;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(label: string, frames: string[], run: () => unknown): Promise<void> {
  const rounds = quick ? 5 : 15;
  const perRound = Math.max(20, Math.round((quick ? 20_000 : 60_000) / frames.length));
  for (let i = 0; i < perRound; i++) await run(); // warm-up
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) await run();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / perRound / frames.length);
  }
  console.log(`${label.padEnd(28)} ${median(samples).toFixed(2).padStart(7)} µs/frame  (min ${Math.min(...samples).toFixed(2)}, ${frames.length} frames)`);
}

const nine = await benchFrames();
for (const [name, frames] of [
  ["9-frame", nine],
  ["200-frame", longFrames(nine, 200)],
] as const) {
  const chunks = frames.map((f) => encoder.encode(f));
  await measure(`pump ${name}`, frames, () => pumpOnce(chunks));
  await measure(`translation ${name}`, frames, () => translateOnce(chunks));
}
