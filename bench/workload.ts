/** The one request every case sends, so every gateway moves the same bytes. */

export const BENCH_MODEL = "gpt-4o-mini";
/** Five words: the mock streams them as five content chunks (plus role, finish and usage chunks). */
export const BENCH_PROMPT = "Say hello to the benchmark";

export function requestBody(stream: boolean): string {
  return JSON.stringify({
    model: BENCH_MODEL,
    messages: [{ role: "user", content: BENCH_PROMPT }],
    max_tokens: 64,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}
