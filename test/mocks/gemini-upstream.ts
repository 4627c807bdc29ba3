import { cutStream, type MockControl, scriptedResponse } from "./control";
import { geminiEmbeddings } from "./gemini-embeddings";

/**
 * A mock Gemini Developer API per reference §3 and the §6 checklist. Deterministic:
 *  - Answer: function declarations, mode not NONE and a last user turn without functionResponse →
 *    one functionCall (first allowedFunctionNames entry, else the first declaration) with args
 *    `{"input": <last user text>}`; a last turn with functionResponse → text
 *    "Tool result: <JSON of response>"; `responseMimeType: application/json` → JSON sampled from
 *    `responseJsonSchema` or `responseSchema` (`{"echo": <text>}` without one); otherwise the last user text echoed.
 *    `candidateCount` identical candidates.
 *  - Tokens: tokens(s) = ceil(s.length / 4). promptTokenCount = max(1, tokens(system texts + every
 *    part: text, JSON of functionCall.args, JSON of functionResponse.response)).
 *    candidatesTokenCount = n × max(1, tokens(answer text or JSON of args)). A positive
 *    `thinkingBudget` → thoughtsTokenCount = tokens("Thinking about: <last user text>") (a thought
 *    part too when includeThoughts). "MOCK_CACHED" in the system instruction →
 *    cachedContentTokenCount = tokens(system text).
 *  - `maxOutputTokens` cuts the text at 4 chars per token (MAX_TOKENS); a stop sequence cuts before it.
 *  - "MOCK_BLOCK" in the last user text → 200 with promptFeedback.blockReason SAFETY, no candidates.
 *  - "MOCK_MIDSTREAM_ERROR" in the last user text → the stream sends an error object after its first chunk.
 *  - A `gemini-3*` model signs each functionCall part with a `thoughtSignature`.
 *  - countTokens: {totalTokens: promptTokenCount of the contents (or of generateContentRequest)}.
 *  - embedContent / batchEmbedContents: see gemini-embeddings.ts.
 */

type Json = Record<string, unknown>;
interface Part {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: { name: string; args?: Json };
  functionResponse?: { name: string; response?: Json };
}
interface Body {
  contents?: Array<{ role?: string; parts?: Part[] }>;
  systemInstruction?: { parts?: Part[] };
  tools?: Array<{ functionDeclarations?: Array<{ name: string }> }>;
  toolConfig?: { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } };
  generationConfig?: {
    maxOutputTokens?: number;
    stopSequences?: string[];
    candidateCount?: number;
    responseMimeType?: string;
    responseJsonSchema?: Json;
    responseSchema?: Json;
    thinkingConfig?: { thinkingBudget?: number; includeThoughts?: boolean };
  };
}
interface Answer {
  parts: Part[];
  finishReason: string;
  outputTokens: number;
  thoughtsTokens: number;
}

const tokens = (text: string): number => Math.ceil(text.length / 4);
const ROUTE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const COUNT_ROUTE = /^\/v1beta\/models\/([^/:]+):countTokens$/;
const EMBED_ROUTE = /^\/v1beta\/models\/([^/:]+):(embedContent|batchEmbedContents)$/;

function partText(part: Part): string {
  if (part.functionCall) return JSON.stringify(part.functionCall.args ?? {});
  if (part.functionResponse) return JSON.stringify(part.functionResponse.response ?? {});
  return part.text ?? "";
}

/** Samples a JSON Schema, or an OpenAPI `responseSchema` (upper-case types, as @google/genai's `Type` sends). */
function sample(schema: Json | undefined): unknown {
  const type = String(schema?.type).toLowerCase();
  if (type === "object") {
    const props = (schema!.properties ?? {}) as Record<string, Json>;
    return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sample(v)]));
  }
  return ({ array: [], integer: 0, number: 0, boolean: false, string: "mock" } as Json)[type] ?? null;
}

function error(status: number, rpcStatus: string, message: string, details: Json[] = []): Response {
  return Response.json({ error: { code: status, message, status: rpcStatus, ...(details.length ? { details } : {}) } }, { status });
}

const BAD_KEY_DETAILS = [
  {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: "API_KEY_INVALID",
    domain: "googleapis.com",
    metadata: { service: "generativelanguage.googleapis.com" },
  },
];

function invalid(body: Body): string | null {
  if (!Array.isArray(body.contents) || body.contents.length === 0) return "* GenerateContentRequest.contents: contents is not specified";
  const called = new Set<string>();
  for (const content of body.contents) {
    if (content.role !== "user" && content.role !== "model") return "Please use a valid role: user, model.";
    if (!Array.isArray(content.parts) || content.parts.length === 0) return "* GenerateContentRequest.contents.parts: contents.parts must not be empty.";
    for (const part of content.parts) {
      if (part.functionCall) called.add(part.functionCall.name);
      if (part.functionResponse && !called.has(part.functionResponse.name)) {
        return "Please ensure that function response turn comes immediately after a function call turn.";
      }
    }
  }
  return null;
}

function cut(text: string, body: Body): { text: string; finishReason: string } {
  for (const stop of body.generationConfig?.stopSequences ?? []) {
    const at = text.indexOf(stop);
    if (at >= 0) return { text: text.slice(0, at), finishReason: "STOP" };
  }
  const cap = body.generationConfig?.maxOutputTokens;
  return cap !== undefined && text.length > cap * 4 ? { text: text.slice(0, cap * 4), finishReason: "MAX_TOKENS" } : { text, finishReason: "STOP" };
}

function answer(body: Body, userText: string, model: string): Answer {
  const contents = body.contents!;
  const last = contents[contents.length - 1]!;
  const config = body.generationConfig ?? {};
  const thought = (config.thinkingConfig?.thinkingBudget ?? 0) > 0 ? `Thinking about: ${userText}` : null;
  const thoughtParts: Part[] = thought && config.thinkingConfig?.includeThoughts ? [{ text: thought, thought: true }] : [];
  const thoughtsTokens = thought ? tokens(thought) : 0;
  const declarations = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  const calling = body.toolConfig?.functionCallingConfig;
  const response = last.parts!.find((p) => p.functionResponse);
  if (declarations.length > 0 && calling?.mode !== "NONE" && last.role === "user" && !response) {
    const call = { name: calling?.allowedFunctionNames?.[0] ?? declarations[0]!.name, args: { input: userText } };
    // Gemini 3 signs its function calls; the signature must come back on the same part (reference §5.3).
    const signature = model.startsWith("gemini-3") ? { thoughtSignature: `c2lnbmF0dXJl${tokens(userText)}` } : {};
    return {
      parts: [...thoughtParts, { functionCall: call, ...signature }],
      finishReason: "STOP",
      outputTokens: Math.max(1, tokens(JSON.stringify(call.args))),
      thoughtsTokens,
    };
  }
  const raw = response
    ? `Tool result: ${JSON.stringify(response.functionResponse!.response ?? {})}`
    : config.responseMimeType === "application/json"
      ? JSON.stringify(config.responseJsonSchema || config.responseSchema ? sample(config.responseJsonSchema ?? config.responseSchema) : { echo: userText })
      : userText;
  const { text, finishReason } = cut(raw, body);
  return { parts: [...thoughtParts, { text }], finishReason, outputTokens: Math.max(1, tokens(text)), thoughtsTokens };
}

const systemTextOf = (body: Body) => (body.systemInstruction?.parts ?? []).map(partText).join("");
const promptTokens = (body: Body) =>
  Math.max(
    1,
    tokens(
      systemTextOf(body) +
        body
          .contents!.flatMap((c) => c.parts!)
          .map(partText)
          .join(""),
    ),
  );

function usageOf(body: Body, ans: Answer, n: number): Json {
  const systemText = systemTextOf(body);
  const prompt = promptTokens(body);
  const candidates = n * ans.outputTokens;
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    ...(ans.thoughtsTokens ? { thoughtsTokenCount: ans.thoughtsTokens } : {}),
    ...(systemText.includes("MOCK_CACHED") ? { cachedContentTokenCount: tokens(systemText) } : {}),
    totalTokenCount: prompt + candidates + ans.thoughtsTokens,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
  };
}

/** The pieces a stream sends: thought parts, then the text word by word, a function call whole. */
function streamPieces(ans: Answer): Part[][] {
  const pieces: Part[][] = [];
  for (const part of ans.parts) {
    if (part.text !== undefined && !part.thought) pieces.push(...(part.text.match(/\S+\s*|\s+/g) ?? []).map((w) => [{ text: w }]));
    else pieces.push([part]);
  }
  // The finishReason travels on a final chunk with an empty text part, as Google's servers do.
  return ans.parts.some((p) => p.functionCall) ? pieces : [...pieces, [{ text: "" }]];
}

function streamChunks(base: Json, ans: Answer, n: number, usage: Json): Json[] {
  const pieces = streamPieces(ans);
  const early = { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount };
  return pieces.map((parts, i) => {
    const lastPiece = i === pieces.length - 1;
    const candidates = Array.from({ length: n }, (_, index) => ({
      content: { parts, role: "model" },
      ...(lastPiece ? { finishReason: ans.finishReason } : {}),
      index,
    }));
    return { candidates, usageMetadata: lastPiece ? usage : early, ...base };
  });
}

function encodeSse(chunks: Json[], failAfterFirst: boolean): string[] {
  const frames = chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`);
  if (!failAfterFirst) return frames;
  const failure = { error: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" } };
  return [frames[0]!, `data: ${JSON.stringify(failure)}\r\n\r\n`];
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

export async function geminiUpstream(request: Request, control: MockControl, path: string): Promise<Response> {
  const url = new URL(request.url);
  const key = request.headers.get("x-goog-api-key") ?? url.searchParams.get("key");
  const raw = request.method === "POST" ? await request.clone().text() : "";
  let body: Body | null = null;
  try {
    body = request.method === "POST" ? (JSON.parse(raw) as Body) : null;
  } catch {
    // not JSON: answered 400 below
  }
  // The raw body (byte-for-byte checks) and the query string (no client key may travel in it).
  control.record({ provider: "gemini", path, key, body, raw, headers: { query: url.search }, at: Date.now() });

  if (!key) return error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers. Please use an API key.");
  if (key.startsWith("bad") || key.startsWith("sk-bad")) {
    return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", BAD_KEY_DETAILS);
  }
  const route = ROUTE.exec(path);
  const embed = EMBED_ROUTE.exec(path);
  const count = COUNT_ROUTE.exec(path);
  if (request.method !== "POST" || (!route && !embed && !count)) return error(404, "NOT_FOUND", "Requested entity was not found.");
  const script = control.take(key, body);
  if (script) {
    const failure = await scriptedResponse(script);
    if (failure) return failure;
  }
  if (embed) return geminiEmbeddings(body as Record<string, unknown> | null, embed[1]!, embed[2]!);
  if (count) {
    // countTokens takes {contents} or {generateContentRequest}; the count follows the token rule above.
    const inner = (body as { generateContentRequest?: Body } | null)?.generateContentRequest ?? body;
    if (inner === null || typeof inner !== "object" || invalid(inner))
      return error(400, "INVALID_ARGUMENT", "* CountTokensRequest.contents: contents is not specified");
    const total = promptTokens(inner);
    return Response.json({ totalTokens: total, promptTokensDetails: [{ modality: "TEXT", tokenCount: total }] });
  }
  if (!route) return error(404, "NOT_FOUND", "Requested entity was not found.");
  if (body === null || typeof body !== "object") return error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  const problem = invalid(body);
  if (problem) return error(400, "INVALID_ARGUMENT", problem);

  const contents = body.contents!;
  const lastUser = [...contents].reverse().find((c) => c.role === "user" && c.parts!.some((p) => p.text !== undefined));
  const userText = (lastUser?.parts ?? []).map((p) => p.text ?? "").join("");
  const base = { modelVersion: route[1], responseId: `mock${crypto.randomUUID().replace(/-/g, "").slice(0, 18)}` };
  const lastText = JSON.stringify(contents[contents.length - 1]);
  if (lastText.includes("MOCK_BLOCK")) {
    const prompt = promptTokens(body);
    return Response.json({ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: { promptTokenCount: prompt, totalTokenCount: prompt }, ...base });
  }
  const n = body.generationConfig?.candidateCount ?? 1;
  const ans = answer(body, userText, route[1]!);
  const usage = usageOf(body, ans, n);
  if (route[2] === "generateContent") {
    const candidates = Array.from({ length: n }, (_, index) => ({ content: { parts: ans.parts, role: "model" }, finishReason: ans.finishReason, index }));
    return Response.json({ candidates, usageMetadata: usage, ...base });
  }
  const chunks = streamChunks(base, ans, n, usage);
  if (url.searchParams.get("alt") !== "sse") {
    // Without alt=sse the endpoint streams one JSON array (reference §3.4).
    return new Response(`[${chunks.map((c) => JSON.stringify(c)).join("\n,\r\n")}]`, { headers: { "content-type": "application/json" } });
  }
  const stream = toStream(encodeSse(chunks, lastText.includes("MOCK_MIDSTREAM_ERROR")));
  return new Response(script?.cutAfterFrames ? cutStream(stream, script.cutAfterFrames) : stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}
