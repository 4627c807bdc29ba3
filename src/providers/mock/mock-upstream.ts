/**
 * The built-in `mock` provider: an in-process OpenAI-compatible server speaking the exact wire
 * format of reference §1 (buffered, streamed with `[DONE]` and the usage chunk, tool calls,
 * JSON mode), so KeyForge can be tried with no provider account. Deterministic by design.
 */

import { mockEmbeddings } from "./mock-embeddings";

interface MockMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; function: { name: string } }>;
}
interface MockRequest {
  model: string;
  messages: MockMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean; include_obfuscation?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  n?: number | null;
  tools?: Array<{ function: { name: string; parameters?: Record<string, unknown> } }>;
  /** Legacy function definitions: billed as prompt like tools, never called. */
  functions?: unknown;
  tool_choice?: unknown;
  response_format?: { type: string; json_schema?: { schema?: Record<string, unknown> } };
  /** Mock-only: wait this long before answering (the `slow` model waits 500 ms by default). */
  mock_delay_ms?: number;
}

export const MOCK_MODELS = ["echo", "slow"] as const;

/** Rough token count: one token per four characters, at least one. */
export function mockTokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === "object" && "text" in p ? String(p.text) : "")).join("");
  }
  return "";
}

function sampleFor(schema: Record<string, unknown> | undefined): unknown {
  switch (schema?.type) {
    case "object": {
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleFor(v)]));
    }
    case "array":
      return [];
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    case "string":
      return Array.isArray(schema.enum) ? schema.enum[0] : "mock";
    default:
      return schema ? null : { echo: "mock" };
  }
}

type Answer = { kind: "text"; text: string } | { kind: "tool"; name: string; arguments: string };

function answer(req: MockRequest): Answer {
  const last = req.messages[req.messages.length - 1];
  const lastUser = [...req.messages].reverse().find((m) => m.role === "user");
  const forced = req.tool_choice as { function?: { name?: string } } | string | undefined;
  if (req.tools?.length && last?.role === "user" && forced !== "none") {
    const name = (typeof forced === "object" && forced.function?.name) || req.tools[0]!.function.name;
    return { kind: "tool", name, arguments: JSON.stringify({ input: textOf(lastUser?.content) }) };
  }
  if (req.response_format?.type === "json_schema") {
    return { kind: "text", text: JSON.stringify(sampleFor(req.response_format.json_schema?.schema)) };
  }
  if (req.response_format?.type === "json_object") {
    return { kind: "text", text: JSON.stringify({ echo: textOf(lastUser?.content) }) };
  }
  if (last?.role === "tool") return { kind: "text", text: `Tool result: ${textOf(last.content)}` };
  return { kind: "text", text: textOf(lastUser?.content) };
}

/** Message text, plus tool and function definitions when present (a provider bills those as input too). */
function promptTokens(req: MockRequest): number {
  const messages = mockTokenCount(req.messages.map((m) => textOf(m.content)).join("\n"));
  const definitions = [req.tools, req.functions].filter((d) => d != null);
  return definitions.length === 0 ? messages : messages + mockTokenCount(JSON.stringify(definitions));
}

/** Truncates the answer to the output-token cap, like a real model hitting `max_tokens`. */
function capped(text: string, cap: number | undefined): { text: string; truncated: boolean } {
  if (cap === undefined || mockTokenCount(text) <= cap) return { text, truncated: false };
  return { text: text.slice(0, cap * 4), truncated: true };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export interface MockOptions {
  /** Delay between streamed chunks, in ms (the `slow` model uses 200 ms when this is unset). */
  chunkDelayMs?: number;
}

export async function handleMockRequest(request: Request, options: MockOptions = {}): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (request.method === "GET" && path.endsWith("/models")) {
    return json({
      object: "list",
      data: MOCK_MODELS.map((id) => ({ id, object: "model", created: 1_766_000_000, owned_by: "keyforge-mock" })),
    });
  }
  if (request.method === "POST" && path.endsWith("/embeddings")) return mockEmbeddings((await request.json()) as Record<string, unknown>);
  if (request.method !== "POST" || !path.endsWith("/chat/completions")) {
    return json({ error: { message: "Unknown route", type: "invalid_request_error", param: null, code: null } }, 404);
  }
  const req = (await request.json()) as MockRequest;
  const firstByteDelay = Math.min(10_000, req.mock_delay_ms ?? (req.model === "slow" ? 500 : 0));
  if (firstByteDelay > 0) await new Promise((r) => setTimeout(r, firstByteDelay));
  const id = `chatcmpl-mock${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
  const created = Math.floor(Date.now() / 1000);
  const ans = answer(req);
  const cap = req.max_completion_tokens ?? req.max_tokens;
  // Tool arguments are output too: a provider stops them at the cap as well (finish_reason "length").
  const out = capped(ans.kind === "text" ? ans.text : ans.arguments, cap);
  // `n` identical choices, each billed (OpenAI sums completion tokens over the choices).
  const n = Math.max(1, Math.min(128, Math.floor(req.n ?? 1)));
  const usage = {
    prompt_tokens: promptTokens(req),
    completion_tokens: n * mockTokenCount(out.text),
    total_tokens: 0,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const finish = out.truncated ? "length" : ans.kind === "tool" ? "tool_calls" : "stop";
  const toolCall = ans.kind === "tool" ? { id: `call_${id.slice(-12)}`, type: "function" as const, function: { name: ans.name, arguments: out.text } } : null;

  if (!req.stream) {
    return json({
      id,
      object: "chat.completion",
      created,
      model: req.model,
      choices: Array.from({ length: n }, (_, index) => ({
        index,
        message: {
          role: "assistant",
          content: toolCall ? null : out.text,
          refusal: null,
          annotations: [],
          ...(toolCall ? { tool_calls: [toolCall] } : {}),
        },
        logprobs: null,
        finish_reason: finish,
      })),
      usage,
      service_tier: "default",
      system_fingerprint: "fp_keyforge_mock",
    });
  }
  const delay = options.chunkDelayMs ?? (req.model === "slow" ? 200 : 0);
  return sseResponse(req, { id, created, n, text: out.text, toolCall, finish, usage, delay });
}

function sseResponse(
  req: MockRequest,
  s: {
    id: string;
    created: number;
    n: number;
    text: string;
    toolCall: { id: string; type: "function"; function: { name: string; arguments: string } } | null;
    finish: string;
    usage: Record<string, unknown>;
    delay: number;
  },
): Response {
  const includeUsage = req.stream_options?.include_usage === true;
  const obfuscate = req.stream_options?.include_obfuscation !== false;
  const chunk = (choices: unknown[], usage: unknown = null) =>
    `data: ${JSON.stringify({
      id: s.id,
      object: "chat.completion.chunk",
      created: s.created,
      model: req.model,
      service_tier: "default",
      system_fingerprint: "fp_keyforge_mock",
      choices,
      ...(includeUsage ? { usage } : {}),
      ...(obfuscate ? { obfuscation: "x".repeat(1 + (s.created % 7)) } : {}),
    })}\n\n`;
  const frames: string[] = [];
  // With n > 1 each choice streams in turn, told apart by its index (OpenAI interleaves them; clients merge by index).
  for (let index = 0; index < s.n; index++) {
    const delta = (d: Record<string, unknown>, finish: string | null = null) => ({ index, delta: d, logprobs: null, finish_reason: finish });
    if (s.toolCall) {
      const { id, type, function: fn } = s.toolCall;
      frames.push(
        chunk([delta({ role: "assistant", content: null, tool_calls: [{ index: 0, id, type, function: { name: fn.name, arguments: "" } }], refusal: null })]),
      );
      const half = Math.ceil(fn.arguments.length / 2);
      for (const piece of [fn.arguments.slice(0, half), fn.arguments.slice(half)]) {
        frames.push(chunk([delta({ tool_calls: [{ index: 0, function: { arguments: piece } }] })]));
      }
    } else {
      frames.push(chunk([delta({ role: "assistant", content: "", refusal: null })]));
      for (const word of s.text.match(/\S+\s*|\s+/g) ?? []) frames.push(chunk([delta({ content: word })]));
    }
    frames.push(chunk([delta({}, s.finish)]));
  }
  if (includeUsage) frames.push(chunk([], s.usage));
  frames.push("data: [DONE]\n\n");

  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const frame = frames.shift();
      if (frame === undefined) return controller.close();
      if (s.delay > 0) await new Promise((r) => setTimeout(r, s.delay));
      controller.enqueue(encoder.encode(frame));
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}
