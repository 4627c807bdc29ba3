import { cutStream, type MockControl, scriptedResponse } from "./control";

/**
 * A mock Anthropic Messages API per reference §2 and the §6 checklist. Deterministic:
 *  - Answer: a forced tool (`tool_choice` tool/any) → that tool (first one for any); tools and a
 *    last user turn without tool_result → text "Calling <name>." then tool_use of the first tool;
 *    a last turn with tool_result → text "Tool result: <content>"; `output_config.format` →
 *    JSON sampled from the schema; otherwise the last user text echoed. Tool input is
 *    `{"input": <last user text>}` (`{"echo": …}` for `json_tool_call`).
 *  - `thinking` enabled → a thinking block "Thinking about: <last user text>" first.
 *  - Tokens: tokens(s) = ceil(s.length / 4). Prompt text is the concatenation of system texts and
 *    every block (text, tool_result text, JSON of tool_use input). With cache_control marks, the
 *    text up to and including the first marked block is `cache_read_input_tokens` (as if an earlier
 *    request had cached it), the text after it up to and including the last marked block is
 *    `cache_creation_input_tokens` (split by TTL in `cache_creation`: each written block takes the
 *    `ttl` of the first mark at or after it), the rest is `input_tokens` (min 1); without marks both cache
 *    counts are 0. output_tokens = tokens(thinking + text + JSON of tool input), min 1.
 *  - `max_tokens` cuts the text at max_tokens*4 chars (stop_reason max_tokens); a stop sequence
 *    cuts it before its first occurrence (stop_reason stop_sequence).
 *  - "MOCK_MIDSTREAM_ERROR" in the last user text: a stream sends an `error` event after its first text delta.
 *  - POST /v1/messages/count_tokens: `{"input_tokens": n}`, n = every prompt token above (input + cache reads + writes).
 *  - Each request is recorded with its raw body and its anthropic-version / anthropic-beta headers.
 */

type Json = Record<string, unknown>;
type Block = Json & { type: string };
interface Turn {
  role: string;
  content: string | Block[];
}
interface Body {
  model?: unknown;
  max_tokens?: unknown;
  messages?: unknown;
  system?: string | Block[];
  temperature?: number;
  stream?: boolean;
  stop_sequences?: string[];
  tools?: Array<{ name: string; input_schema?: Json }>;
  tool_choice?: { type: string; name?: string };
  thinking?: { type: string };
  output_config?: { format?: { schema?: Json } };
}
interface Answer {
  thinking: string | null;
  text: string | null;
  tool: { id: string; name: string; input: Json } | null;
  stopReason: string;
  stopSequence: string | null;
}

export const tokens = (text: string): number => Math.ceil(text.length / 4);
const hex = () => crypto.randomUUID().replace(/-/g, "").slice(0, 24);

function blocksOf(content: string | Block[]): Block[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

function blockText(block: Block): string {
  if (block.type === "text") return String(block.text);
  if (block.type === "tool_use") return JSON.stringify(block.input);
  if (block.type === "tool_result")
    return typeof block.content === "string"
      ? block.content
      : blocksOf((block.content ?? []) as Block[])
          .map(blockText)
          .join("");
  return "";
}

function sample(schema: Json | undefined): unknown {
  if (schema?.type === "object") {
    const props = (schema.properties ?? {}) as Record<string, Json>;
    return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sample(v)]));
  }
  return ({ array: [], integer: 0, number: 0, boolean: false, string: "mock" } as Json)[String(schema?.type)] ?? null;
}

function error(status: number, type: string, message: string, requestId: string): Response {
  return Response.json({ type: "error", error: { type, message }, request_id: requestId }, { status, headers: { "request-id": requestId } });
}

/** Returns a validation message, or null when the body is acceptable. */
function invalid(body: Body): string | null {
  if (typeof body.model !== "string") return "model: Field required";
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) return "max_tokens: Field required";
  if (!Array.isArray(body.messages) || body.messages.length === 0) return "messages: at least one message is required";
  if (body.temperature !== undefined && (body.temperature < 0 || body.temperature > 1)) return "temperature: must be between 0 and 1";
  const seen = new Set<string>();
  for (const turn of body.messages as Turn[]) {
    // `system` turns mid-conversation are accepted (MessageParam.role allows them; Claude Code sends them).
    if (turn.role !== "user" && turn.role !== "assistant" && turn.role !== "system") return `messages: Unexpected role "${turn.role}"`;
    for (const block of blocksOf(turn.content)) {
      if (block.type === "text" && block.text === "") return "messages: text content blocks must be non-empty";
      if (block.type === "tool_use") seen.add(String(block.id));
      if (block.type === "tool_result" && !seen.has(String(block.tool_use_id))) {
        return "messages: tool_result block(s) provided without a corresponding tool_use block";
      }
    }
  }
  return null;
}

function promptUsage(body: Body): Json {
  const blocks = [...blocksOf(body.system ?? []), ...(body.messages as Turn[]).flatMap((t) => blocksOf(t.content))];
  const texts = blocks.map(blockText);
  const marked = blocks.flatMap((b, i) => (b.cache_control ? [i] : []));
  const upTo = (end: number, start = 0) => texts.slice(start, end).join("");
  if (marked.length === 0) {
    return { input_tokens: Math.max(1, tokens(upTo(texts.length))), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  }
  const first = marked[0]! + 1;
  const last = marked[marked.length - 1]! + 1;
  // A written block lives as long as the breakpoint that caches it: the first mark at or after it.
  const written = { "5m": "", "1h": "" };
  for (let i = first; i < last; i++) {
    const mark = blocks[marked.find((m) => m >= i)!]!.cache_control as { ttl?: string };
    written[mark.ttl === "1h" ? "1h" : "5m"] += texts[i];
  }
  const creation = { ephemeral_5m_input_tokens: tokens(written["5m"]), ephemeral_1h_input_tokens: tokens(written["1h"]) };
  return {
    input_tokens: Math.max(1, tokens(upTo(texts.length, last))),
    cache_creation_input_tokens: creation.ephemeral_5m_input_tokens + creation.ephemeral_1h_input_tokens,
    cache_read_input_tokens: tokens(upTo(first)),
    cache_creation: creation,
  };
}

function cut(text: string, body: Body): { text: string; stopReason: string; stopSequence: string | null } {
  for (const stop of body.stop_sequences ?? []) {
    const at = text.indexOf(stop);
    if (at >= 0) return { text: text.slice(0, at), stopReason: "stop_sequence", stopSequence: stop };
  }
  const cap = (body.max_tokens as number) * 4;
  return text.length > cap ? { text: text.slice(0, cap), stopReason: "max_tokens", stopSequence: null } : { text, stopReason: "end_turn", stopSequence: null };
}

function answer(body: Body): Answer {
  const turns = body.messages as Turn[];
  const last = blocksOf(turns[turns.length - 1]!.content);
  const lastUser = [...turns].reverse().find((t) => t.role === "user" && blocksOf(t.content).some((b) => b.type === "text"));
  const userText = lastUser
    ? blocksOf(lastUser.content)
        .filter((b) => b.type === "text")
        .map(blockText)
        .join("")
    : "";
  const thinking = body.thinking?.type === "enabled" ? `Thinking about: ${userText}` : null;
  const choice = body.tool_choice;
  const toolResult = last.find((b) => b.type === "tool_result");
  const tool = (name: string) => ({ id: `toolu_01${hex()}`, name, input: name === "json_tool_call" ? { echo: userText } : { input: userText } });
  const base = { thinking, stopSequence: null };
  if (body.tools?.length && (choice?.type === "tool" || choice?.type === "any")) {
    return { ...base, text: null, tool: tool(choice.name ?? body.tools[0]!.name), stopReason: "tool_use" };
  }
  if (body.tools?.length && !toolResult && choice?.type !== "none") {
    return { ...base, text: `Calling ${body.tools[0]!.name}.`, tool: tool(body.tools[0]!.name), stopReason: "tool_use" };
  }
  const raw = toolResult
    ? `Tool result: ${blockText(toolResult)}`
    : body.output_config?.format
      ? JSON.stringify(sample(body.output_config.format.schema))
      : userText;
  return { ...base, ...cut(raw, body), tool: null };
}

function content(ans: Answer): Block[] {
  const blocks: Block[] = [];
  if (ans.thinking !== null) blocks.push({ type: "thinking", thinking: ans.thinking, signature: "EqQBmock" });
  if (ans.text !== null) blocks.push({ type: "text", text: ans.text });
  if (ans.tool) blocks.push({ type: "tool_use", ...ans.tool });
  return blocks;
}

function outputUsage(ans: Answer): Json {
  const thinking = ans.thinking === null ? 0 : tokens(ans.thinking);
  const all = (ans.thinking ?? "") + (ans.text ?? "") + (ans.tool ? JSON.stringify(ans.tool.input) : "");
  return { output_tokens: Math.max(1, tokens(all)), ...(thinking ? { output_tokens_details: { thinking_tokens: thinking } } : {}) };
}

function sse(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

function blockEvents(index: number, block: Block, failAfterFirst: boolean): string[] {
  const start = (b: Json) => sse("content_block_start", { index, content_block: b });
  const delta = (d: Json) => sse("content_block_delta", { index, delta: d });
  const stop = sse("content_block_stop", { index });
  if (block.type === "thinking") {
    const text = String(block.thinking);
    const half = Math.ceil(text.length / 2);
    const parts = [text.slice(0, half), text.slice(half)].map((t) => delta({ type: "thinking_delta", thinking: t }));
    return [start({ type: "thinking", thinking: "" }), ...parts, delta({ type: "signature_delta", signature: String(block.signature) }), stop];
  }
  if (block.type === "text") {
    const words = String(block.text).match(/\S+\s*|\s+/g) ?? [];
    const deltas = words.map((w) => delta({ type: "text_delta", text: w }));
    if (failAfterFirst)
      return [start({ type: "text", text: "" }), ...deltas.slice(0, 1), sse("error", { error: { type: "overloaded_error", message: "Overloaded" } })];
    return [start({ type: "text", text: "" }), sse("ping", {}), ...deltas, stop];
  }
  const json = JSON.stringify(block.input);
  const half = Math.ceil(json.length / 2);
  const fragments = ["", json.slice(0, half), json.slice(half)].map((p) => delta({ type: "input_json_delta", partial_json: p }));
  return [start({ type: "tool_use", id: block.id, name: block.name, input: {} }), ...fragments, stop];
}

function streamBody(message: Json, blocks: Block[], failMidStream: boolean): string[] {
  const usage = message.usage as Json;
  // message_start carries the input counts and a placeholder output count, without breakdowns.
  const startUsage: Json = { ...usage, output_tokens: 1 };
  delete startUsage.output_tokens_details;
  const frames = [sse("message_start", { message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: startUsage } }), sse("ping", {})];
  for (const [i, block] of blocks.entries()) {
    const events = blockEvents(i, block, failMidStream && block.type === "text");
    frames.push(...events);
    if (events.some((e) => e.startsWith("event: error"))) return frames;
  }
  frames.push(sse("message_delta", { delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence }, usage }));
  frames.push(sse("message_stop", {}));
  return frames;
}

function toStream(frames: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const frame = frames.shift();
      if (frame === undefined) controller.close();
      else controller.enqueue(encoder.encode(frame));
    },
  });
}

function rateLimitHeaders(requestId: string): Record<string, string> {
  const reset = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, "Z");
  return {
    "request-id": requestId,
    "anthropic-organization-id": "org-mock",
    "anthropic-ratelimit-requests-limit": "1000",
    "anthropic-ratelimit-requests-remaining": "999",
    "anthropic-ratelimit-requests-reset": reset,
    "anthropic-ratelimit-input-tokens-limit": "80000",
    "anthropic-ratelimit-input-tokens-remaining": "78000",
    "anthropic-ratelimit-input-tokens-reset": reset,
  };
}

export async function anthropicUpstream(request: Request, control: MockControl, path: string): Promise<Response> {
  const key = request.headers.get("x-api-key");
  const raw = request.method === "POST" ? await request.clone().text() : "";
  let body: Body | null = null;
  try {
    body = request.method === "POST" ? (JSON.parse(raw) as Body | null) : null;
  } catch {
    // Not JSON: answered with a 400 below.
  }
  const anthropicHeaders: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    if (name.startsWith("anthropic-")) anthropicHeaders[name] = value;
  });
  control.record({ provider: "anthropic", path, key, body, raw, headers: anthropicHeaders, at: Date.now() });
  const requestId = `req_011${hex()}`;

  if (!key || key.startsWith("bad") || key.startsWith("sk-bad")) return error(401, "authentication_error", "invalid x-api-key", requestId);
  if (!request.headers.get("anthropic-version")) return error(400, "invalid_request_error", "anthropic-version: header is required", requestId);
  if (request.method !== "POST" || (path !== "/v1/messages" && path !== "/v1/messages/count_tokens"))
    return error(404, "not_found_error", "Not found", requestId);
  const script = control.take(key, body);
  if (script) {
    const failure = await scriptedResponse(script);
    if (failure) return failure;
  }
  if (body === null || typeof body !== "object") return error(400, "invalid_request_error", "The request body is not valid JSON.", requestId);
  if (path === "/v1/messages/count_tokens") {
    const problem = invalid({ max_tokens: 1, ...body });
    if (problem) return error(400, "invalid_request_error", problem, requestId);
    const usage = promptUsage(body) as { input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number };
    const count = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens;
    return Response.json({ input_tokens: count }, { headers: rateLimitHeaders(requestId) });
  }
  const problem = invalid(body);
  if (problem) return error(400, "invalid_request_error", problem, requestId);

  const ans = answer(body);
  const blocks = content(ans);
  const message: Json = {
    id: `msg_01${hex()}`,
    type: "message",
    role: "assistant",
    model: body.model,
    content: blocks,
    stop_reason: ans.stopReason,
    stop_sequence: ans.stopSequence,
    usage: { ...promptUsage(body), ...outputUsage(ans), service_tier: "standard" },
  };
  const headers = rateLimitHeaders(requestId);
  if (!body.stream) return Response.json(message, { headers });

  const lastText = JSON.stringify((body.messages as Turn[])[(body.messages as Turn[]).length - 1]);
  const stream = toStream(streamBody(message, blocks, lastText.includes("MOCK_MIDSTREAM_ERROR")));
  return new Response(script?.cutAfterFrames ? cutStream(stream, script.cutAfterFrames) : stream, {
    headers: { ...headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}
