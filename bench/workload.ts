/**
 * The requests the bench sends, one per agent-facing endpoint, so every target of an endpoint moves
 * the same bytes: Chat Completions and Responses with an OpenAI model (forwarded natively by
 * KeyForge), Anthropic Messages with a Claude model (forwarded natively too).
 */

export type Endpoint = "chat" | "messages" | "responses";

export const BENCH_MODEL = "gpt-4o-mini";
export const BENCH_CLAUDE_MODEL = "claude-haiku-4-5";
/** Five words: every mock streams them as five text deltas (plus each format's framing events). */
export const BENCH_PROMPT = "Say hello to the benchmark";

/** The gateway paths (the bare forwarder and KeyForge serve the same ones). */
export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  chat: "/v1/chat/completions",
  messages: "/v1/messages",
  responses: "/v1/responses",
};

/**
 * The first frame that carries a token of text, per wire format: a chat chunk with a non-empty
 * `delta.content`, a Messages `text_delta`, a Responses `response.output_text.delta`.
 */
export const FIRST_TOKEN: Record<Endpoint, RegExp> = {
  chat: /"content":"[^"]/,
  messages: /"type":"text_delta","text":"[^"]/,
  responses: /"type":"response\.output_text\.delta"/,
};

export function requestBody(endpoint: Endpoint, stream: boolean): string {
  const messages = [{ role: "user", content: BENCH_PROMPT }];
  switch (endpoint) {
    case "chat":
      return JSON.stringify({
        model: BENCH_MODEL,
        messages,
        max_tokens: 64,
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      });
    case "messages":
      // What Claude Code sends at its simplest: model, max_tokens, messages, stream.
      return JSON.stringify({ model: BENCH_CLAUDE_MODEL, max_tokens: 64, messages, ...(stream ? { stream: true } : {}) });
    case "responses":
      // store: false, as Codex sends: nothing is kept upstream, the whole input is in the request.
      return JSON.stringify({ model: BENCH_MODEL, input: BENCH_PROMPT, max_output_tokens: 64, store: false, ...(stream ? { stream: true } : {}) });
  }
}
