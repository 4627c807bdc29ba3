import fc from "fast-check";
import { contentType, deeplyNested, hostileJson, hostileString, setAt } from "./arbitraries";

/**
 * Bodies for `POST /v1/chat/completions`: a valid request, then 0-3 mutations (wrong types, missing
 * fields, extra fields, huge or deep values, unicode), or raw text that is not quite JSON.
 */

const MODELS = fc.oneof(
  { weight: 20, arbitrary: fc.constant("mock/echo") },
  // Real adapters (translation happens after admission), served by the loopback mock upstreams.
  { weight: 2, arbitrary: fc.constantFrom("gpt-4o-mini", "claude-haiku-4-5", "gemini-2.5-flash", "google/gemini-2.5-flash", "anthropic/claude-sonnet-4-6") },
  { weight: 2, arbitrary: fc.constantFrom("mock/", "/echo", "mock", "nowhere/model", "llama-3", "MOCK/echo", "mock/echo/extra", "gpt-", "o1") },
  { weight: 1, arbitrary: hostileString },
);

const text = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: hostileString });

const part = fc.oneof(
  text.map((t) => ({ type: "text", text: t })),
  fc.constantFrom(
    { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
    { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
    { type: "file", file: { file_id: "file-1" } },
  ),
);

const message = fc.oneof(
  { weight: 6, arbitrary: fc.record({ role: fc.constant("user"), content: fc.oneof(text, fc.array(part, { minLength: 1, maxLength: 3 })) }) },
  { weight: 2, arbitrary: fc.record({ role: fc.constantFrom("system", "developer"), content: text }) },
  { weight: 1, arbitrary: fc.record({ role: fc.constant("assistant"), content: fc.option(text) }) },
  {
    weight: 1,
    arbitrary: fc.constant({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: "{}" } }],
    }),
  },
  { weight: 1, arbitrary: fc.record({ role: fc.constant("tool"), tool_call_id: fc.constantFrom("call_1", "call_x"), content: text }) },
);

const tool = { type: "function", function: { name: "lookup", description: "Looks up", parameters: { type: "object", properties: { q: { type: "string" } } } } };

const optionalFields = fc.record(
  {
    stream: fc.boolean(),
    stream_options: fc.record({ include_usage: fc.boolean() }),
    max_tokens: fc.integer({ min: 1, max: 64 }),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
    top_p: fc.double({ min: 0, max: 1, noNaN: true }),
    n: fc.constantFrom(1, 2),
    stop: fc.oneof(fc.string({ maxLength: 5 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 })),
    tools: fc.constant([tool]),
    tool_choice: fc.constantFrom("auto", "none", "required", { type: "function", function: { name: "lookup" } }),
    response_format: fc.constantFrom(
      { type: "text" },
      { type: "json_object" },
      { type: "json_schema", json_schema: { name: "s", schema: { type: "object", properties: { a: { type: "string" } } } } },
    ),
    seed: fc.integer(),
    user: fc.string({ maxLength: 10 }),
  },
  { requiredKeys: [] },
);

export const validRequest = fc
  .tuple(MODELS, fc.array(message, { minLength: 1, maxLength: 4 }), optionalFields)
  .map(([model, messages, extra]) => ({ model, messages, ...extra }));

/** A value that breaks a field: wrong type, huge, deep, or just odd. */
const badValue = fc.oneof({ weight: 6, arbitrary: hostileJson }, { weight: 1, arbitrary: deeplyNested });

/** Fields the schema knows, as paths: a hostile value there is (nearly always) a schema violation. */
const KNOWN_FIELDS: Array<Array<string | number>> = [
  ["model"],
  ["messages"],
  ["messages", 0],
  ["messages", 0, "role"],
  ["messages", 0, "content"],
  ["messages", 0, "content", 0],
  ["stream"],
  ["stream_options"],
  ["max_tokens"],
  ["max_completion_tokens"],
  ["temperature"],
  ["top_p"],
  ["n"],
  ["stop"],
  ["tools"],
  ["tools", 0, "function"],
  ["tool_choice"],
  ["response_format"],
  ["seed"],
];

const mutation = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("field" as const), field: fc.constantFrom(...KNOWN_FIELDS), value: badValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("set" as const), path: fc.array(fc.nat(), { maxLength: 4 }), value: badValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("extra" as const),
      path: fc.array(fc.nat(), { maxLength: 3 }),
      value: fc.dictionary(hostileString, hostileJson, { minKeys: 1, maxKeys: 3 }),
    }),
  },
);

type Mutation =
  { op: "set" | "extra"; path: number[]; value: unknown } | { op: "delete"; path: number[] } | { op: "field"; field: Array<string | number>; value: unknown };

/** Sets a named path, creating nothing: a path that does not exist in this request is left alone. */
function setField(root: unknown, [head, ...rest]: Array<string | number>, value: unknown): unknown {
  if (root === null || typeof root !== "object" || head === undefined || !(head in root)) return root;
  const copy = (Array.isArray(root) ? [...root] : { ...root }) as Record<string | number, unknown>;
  copy[head] = rest.length === 0 ? value : setField(copy[head], rest, value);
  return copy;
}

function mutate(body: unknown, m: Mutation): unknown {
  if (m.op === "field") return setField(body, m.field, m.value);
  if (m.op === "delete") return setAt(body, m.path, undefined, { remove: true });
  if (m.op === "set") return setAt(body, m.path, m.value);
  let out = body;
  for (const [key, v] of Object.entries(m.value as Record<string, unknown>)) out = setAt(out, [...m.path, 0], v, { key });
  return out;
}

/** Text that is not (quite) a JSON request. */
const rawText = fc.oneof(
  validRequest.chain((r) => fc.integer({ min: 0, max: JSON.stringify(r).length - 1 }).map((n) => JSON.stringify(r).slice(0, n))),
  validRequest.map((r) => `\ufeff${JSON.stringify(r)}`),
  validRequest.map((r) => JSON.stringify(r).replace("{", '{"model":7,')),
  fc.constantFrom("", "null", "[]", "0", '"model"', "{}", "{,}", "{'model': 'mock/echo'}", "NaN", "[{}]"),
  fc.integer({ min: 1, max: 200_000 }).map((n) => "[".repeat(n)),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => new TextDecoder().decode(b)),
);

export type ChatBody = { raw: string } | { json: unknown };

export const chatBody: fc.Arbitrary<ChatBody> = fc.oneof(
  { weight: 4, arbitrary: validRequest.map((json) => ({ json })) },
  {
    weight: 80,
    arbitrary: fc.tuple(validRequest, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([r, ms]) => ({ json: ms.reduce<unknown>(mutate, r) })),
  },
  { weight: 20, arbitrary: rawText.map((raw) => ({ raw })) },
  // Rare (they dominate run time): past the 4 MiB body limit.
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 15 })
      .map((n) => ({ json: { model: "mock/echo", messages: [{ role: "user", content: "x".repeat(4 * 1024 * 1024 + n) }] } })),
  },
);

export const chatContentType = contentType;

export function bodyText(body: ChatBody): string {
  return "raw" in body ? body.raw : (JSON.stringify(body.json) ?? "");
}
