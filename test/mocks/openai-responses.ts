import type { MockControl } from "./control";

/**
 * A mock of OpenAI's `POST /v1/responses` in the exact wire format of reference agent-apis §1
 * (copied here, not shared with the gateway's translator, so that a bug there cannot hide itself).
 * Deterministic:
 *  - Answer: function tools, tool_choice not "none" and a last input item that is a user message →
 *    one function_call (the forced name, else the first function tool) with arguments
 *    `{"input": <last user text>}`; a last item function_call_output → text "Tool result: <output>";
 *    text.format json_schema → JSON sampled from the schema, json_object → `{"echo": <text>}`;
 *    otherwise the last user text echoed.
 *  - Tokens: tokens(s) = ceil(s.length / 4). input_tokens = tokens(instructions + every input and
 *    earlier-turn text + JSON of tools); output_tokens = tokens(answer) + reasoning tokens.
 *    `reasoning.effort` set (not "none") → a reasoning item first, reasoning_tokens =
 *    tokens("Thinking about: <text>"), encrypted_content when `include` asks for it.
 *    "MOCK_CACHED" in instructions → cached_tokens = tokens(instructions).
 *  - max_output_tokens cuts the text at 4 chars per token: status incomplete (max_output_tokens).
 *  - Storage (store defaults to true) is per organisation: a key containing `org-<name>` belongs to
 *    organisation <name>, any other key is its own. previous_response_id / item_reference from
 *    another organisation → 400 previous_response_not_found, as OpenAI answers for unknown ids.
 *  - "MOCK_FAIL_MIDSTREAM" in the last user text → the stream ends with response.failed after its
 *    first text delta (an upstream message containing "MOCK_SECRET_TEXT").
 *  - Streams: named events with sequence_number from 0, `obfuscation` on deltas unless
 *    stream_options.include_obfuscation is false, no [DONE].
 */

type Json = Record<string, unknown>;
interface Item {
  type?: string;
  role?: string;
  content?: unknown;
  id?: string;
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: unknown;
}
interface Stored {
  org: string;
  items: Item[];
}

const tokens = (text: string) => Math.ceil(text.length / 4);
const hex = () => crypto.randomUUID().replace(/-/g, "");
const stores = new WeakMap<MockControl, Map<string, Stored>>();

export const orgOf = (key: string) => /org-([a-z0-9]+)/i.exec(key)?.[1] ?? key;

function error(status: number, message: string, param: string | null, code: string | null): Response {
  return Response.json({ error: { message, type: "invalid_request_error", param, code } }, { status });
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p: { text?: unknown; refusal?: unknown }) => (typeof p?.text === "string" ? p.text : typeof p?.refusal === "string" ? p.refusal : ""))
    .join("");
}

function itemText(item: Item): string {
  if (item.type === "function_call") return item.arguments ?? "";
  if (item.type === "function_call_output") return typeof item.output === "string" ? item.output : textOf(item.output);
  return textOf(item.content);
}

function sample(schema: Json | undefined): unknown {
  if (schema?.type === "object") {
    const props = (schema.properties ?? {}) as Record<string, Json>;
    return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sample(v)]));
  }
  return ({ array: [], integer: 0, number: 0, boolean: false, string: "mock" } as Json)[String(schema?.type)] ?? null;
}

interface Answer {
  reasoning: string | null;
  text: string | null;
  call: { name: string; arguments: string } | null;
  truncated: boolean;
}

function answer(body: Json, items: Item[]): Answer {
  const last = items[items.length - 1];
  const lastUser = [...items].reverse().find((i) => (i.type === undefined || i.type === "message") && i.role === "user");
  const userText = lastUser ? textOf(lastUser.content) : "";
  const effort = (body.reasoning as { effort?: unknown } | undefined)?.effort;
  const reasoning = typeof effort === "string" && effort !== "none" ? `Thinking about: ${userText}` : null;
  const functions = ((body.tools ?? []) as Json[]).filter((t) => t.type === "function");
  const choice = body.tool_choice as string | { type?: string; name?: string } | undefined;
  const lastIsUser = last !== undefined && (last.type === undefined || last.type === "message") && last.role === "user";
  if (functions.length > 0 && choice !== "none" && lastIsUser) {
    const name = typeof choice === "object" && choice.type === "function" && choice.name ? choice.name : String(functions[0]!.name);
    return { reasoning, text: null, call: { name, arguments: JSON.stringify({ input: userText }) }, truncated: false };
  }
  const format = (body.text as { format?: { type?: string; schema?: Json } } | undefined)?.format;
  let text =
    last?.type === "function_call_output"
      ? `Tool result: ${itemText(last)}`
      : format?.type === "json_schema"
        ? JSON.stringify(sample(format.schema))
        : format?.type === "json_object"
          ? JSON.stringify({ echo: userText })
          : userText;
  const cap = typeof body.max_output_tokens === "number" ? body.max_output_tokens : undefined;
  const truncated = cap !== undefined && tokens(text) > cap;
  if (truncated) text = text.slice(0, cap! * 4);
  return { reasoning, text, call: null, truncated };
}

function usageOf(body: Json, items: Item[], ans: Answer) {
  const instructions = typeof body.instructions === "string" ? body.instructions : "";
  const input = tokens(instructions + items.map(itemText).join("") + (body.tools ? JSON.stringify(body.tools) : ""));
  const reasoningTokens = ans.reasoning ? tokens(ans.reasoning) : 0;
  const output = tokens(ans.text ?? ans.call?.arguments ?? "") + reasoningTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: instructions.includes("MOCK_CACHED") ? tokens(instructions) : 0, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: input + output,
  };
}

function outputItems(body: Json, ans: Answer, done: boolean): Json[] {
  const status = done ? "completed" : "in_progress";
  const out: Json[] = [];
  const include = (body.include ?? []) as string[];
  if (ans.reasoning) {
    out.push({
      id: `rs_${hex()}`,
      type: "reasoning",
      summary: [{ type: "summary_text", text: ans.reasoning }],
      ...(include.includes("reasoning.encrypted_content") ? { encrypted_content: `gAAAA${btoa(ans.reasoning)}` } : {}),
    });
  }
  if (ans.call) {
    out.push({ id: `fc_${hex()}`, type: "function_call", status, arguments: ans.call.arguments, call_id: `call_${hex().slice(0, 24)}`, name: ans.call.name });
  }
  if (ans.text !== null) {
    out.push({
      id: `msg_${hex()}`,
      type: "message",
      status: ans.truncated ? "incomplete" : status,
      role: "assistant",
      content: [{ type: "output_text", text: ans.text, annotations: [], logprobs: [] }],
    });
  }
  return out;
}

function responseObject(body: Json, id: string, status: string, output: Json[], usage: Json | null, ans: Answer): Json {
  return {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    background: false,
    completed_at: status === "completed" ? Math.floor(Date.now() / 1000) : null,
    error: null,
    incomplete_details: status === "incomplete" && ans.truncated ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: body.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: (body.reasoning as Json | undefined)?.effort ?? null, summary: null },
    service_tier: "default",
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: "disabled",
    usage,
    user: null,
    metadata: body.metadata ?? {},
  };
}

/** The conversation so far: earlier stored turns (same organisation only), then this input. */
function conversation(body: Json, store: Map<string, Stored>, org: string): Item[] | Response {
  const prior: Item[] = [];
  const previous = body.previous_response_id;
  if (typeof previous === "string") {
    const stored = store.get(previous);
    if (!stored || stored.org !== org)
      return error(400, `Previous response with id '${previous}' not found.`, "previous_response_id", "previous_response_not_found");
    prior.push(...stored.items);
  }
  const input: Item[] = typeof body.input === "string" ? [{ role: "user", content: body.input }] : (body.input as Item[]);
  const resolved: Item[] = [];
  for (const [i, item] of input.entries()) {
    if (item.type !== "item_reference") {
      resolved.push(item);
      continue;
    }
    const found = [...store.values()]
      .filter((s) => s.org === org)
      .flatMap((s) => s.items)
      .find((stored) => stored.id === item.id);
    if (!found) return error(404, `Item with id '${item.id}' not found.`, `input[${i}]`, null);
    resolved.push(found);
  }
  return [...prior, ...resolved];
}

export function openAiResponses(body: Json | null, key: string, control: MockControl): Response {
  if (!body || typeof body.model !== "string") return error(400, "Missing required parameter: 'model'.", "model", "missing_required_parameter");
  if (typeof body.input !== "string" && !Array.isArray(body.input))
    return error(400, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
  const store = stores.get(control) ?? new Map<string, Stored>();
  stores.set(control, store);
  const org = orgOf(key);
  const items = conversation(body, store, org);
  if (items instanceof Response) return items;
  const ans = answer(body, items);
  const usage = usageOf(body, items, ans);
  const id = `resp_${hex()}`;
  const output = outputItems(body, ans, true);
  if (body.store !== false) store.set(id, { org, items: [...items, ...(output as Item[])] });
  const status = ans.truncated ? "incomplete" : "completed";
  if (body.stream !== true) return Response.json(responseObject(body, id, status, output, usage, ans));
  const frames = streamFrames(body, id, status, output, usage, ans, textOf((items.at(-1) as Item | undefined)?.content).includes("MOCK_FAIL_MIDSTREAM"));
  const encoder = new TextEncoder();
  // One frame per chunk, as a server flushing each event.
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const frame = frames.shift();
      if (frame === undefined) controller.close();
      else controller.enqueue(encoder.encode(frame));
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } });
}

function streamFrames(body: Json, id: string, status: string, output: Json[], usage: Json, ans: Answer, failMidstream: boolean): string[] {
  const obfuscate = (body.stream_options as { include_obfuscation?: unknown } | undefined)?.include_obfuscation !== false;
  let seq = 0;
  const frames: string[] = [];
  const emit = (type: string, fields: Json, delta = false) =>
    frames.push(
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields, ...(delta && obfuscate ? { obfuscation: "x".repeat(1 + (seq % 5)) } : {}) })}\n\n`,
    );
  const progress = responseObject(body, id, "in_progress", [], null, ans);
  emit("response.created", { response: progress });
  emit("response.in_progress", { response: progress });
  for (const [index, item] of output.entries()) {
    const ref = { item_id: item.id, output_index: index };
    if (item.type === "reasoning") {
      const text = (item.summary as Array<{ text: string }>)[0]!.text;
      emit("response.output_item.added", { output_index: index, item: { ...item, summary: [] } });
      emit("response.reasoning_summary_part.added", { ...ref, summary_index: 0, part: { type: "summary_text", text: "" } });
      emit("response.reasoning_summary_text.delta", { ...ref, summary_index: 0, delta: text }, true);
      emit("response.reasoning_summary_text.done", { ...ref, summary_index: 0, text });
      emit("response.reasoning_summary_part.done", { ...ref, summary_index: 0, part: { type: "summary_text", text } });
    } else if (item.type === "function_call") {
      const args = String(item.arguments);
      emit("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", arguments: "" } });
      const half = Math.ceil(args.length / 2);
      for (const piece of [args.slice(0, half), args.slice(half)]) emit("response.function_call_arguments.delta", { ...ref, delta: piece }, true);
      emit("response.function_call_arguments.done", { ...ref, arguments: args, name: item.name });
    } else {
      const text = (item.content as Array<{ text: string }>)[0]!.text;
      emit("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", content: [] } });
      const part = { ...ref, content_index: 0 };
      emit("response.content_part.added", { ...part, part: { type: "output_text", text: "", annotations: [], logprobs: [] } });
      const words = text.match(/\S+\s*|\s+/g) ?? [];
      for (const [w, word] of words.entries()) {
        emit("response.output_text.delta", { ...part, delta: word, logprobs: [] }, true);
        if (failMidstream && w === 0) {
          const failed = {
            ...responseObject(body, id, "failed", [], usage, ans),
            error: { code: "server_error", message: "The server had an error MOCK_SECRET_TEXT" },
          };
          emit("response.failed", { response: failed });
          return frames;
        }
      }
      emit("response.output_text.done", { ...part, text, logprobs: [] });
      emit("response.content_part.done", { ...part, part: { type: "output_text", text, annotations: [], logprobs: [] } });
    }
    emit("response.output_item.done", { output_index: index, item });
  }
  emit(status === "completed" ? "response.completed" : "response.incomplete", { response: responseObject(body, id, status, output, usage, ans) });
  return frames;
}
