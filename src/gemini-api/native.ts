import * as z from "zod";
import { GatewayError } from "../errors";
import { UpstreamStreamError } from "../providers/openai-frames";
import { usageFromGemini } from "../providers/gemini/usage";
import { responseSchema, type UsageMetadata } from "../providers/gemini/wire";
import type { AdapterContext, SseEvent, StreamFailure, StreamTranslator, UpstreamRequest, Usage } from "../providers/types";
import { geminiStreamErrorFrame } from "./errors";

/**
 * Gemini models on the Gemini surface: the client's body goes to Gemini as it came (its bytes, unless
 * policy injects an output cap or a batch names the model differently upstream) and the answer comes
 * back as Gemini sent it: buffered JSON byte for byte, the stream frame by frame. Thought signatures,
 * thought parts and every part Gemini adds later therefore round-trip untouched; only usage is read.
 * The client's own URL (its `?key=` included) and headers are never forwarded: the upstream request
 * is built here, with the pooled key in `x-goog-api-key`.
 */

export type GeminiMethod = "generateContent" | "streamGenerateContent" | "countTokens" | "embedContent" | "batchEmbedContents";

export interface ClientBody {
  text: string;
  json: Record<string, unknown>;
}

/** Always v1beta upstream: a superset of v1, which @google/genai 3.x calls by default. */
export function nativeUrl(ctx: AdapterContext, method: GeminiMethod): string {
  const model = encodeURIComponent(ctx.model.replace(/^models\//, ""));
  return `${ctx.baseUrl}/v1beta/models/${model}:${method}${method === "streamGenerateContent" ? "?alt=sse" : ""}`;
}

function upstreamBody(client: ClientBody, method: GeminiMethod, ctx: AdapterContext): string {
  const json = client.json;
  if (method === "generateContent" || method === "streamGenerateContent") {
    const config = (json.generationConfig ?? {}) as Record<string, unknown>;
    // The only change policy makes: the output cap a bounded key needs when the client set none.
    if (ctx.defaultMaxTokens != null && config.maxOutputTokens == null) {
      return JSON.stringify({ ...json, generationConfig: { ...config, maxOutputTokens: ctx.defaultMaxTokens } });
    }
  }
  if (method === "batchEmbedContents" && Array.isArray(json.requests)) {
    // Each request must name the path's model; an alias the client used is renamed to the upstream id.
    const name = `models/${ctx.model.replace(/^models\//, "")}`;
    const requests = json.requests as Array<Record<string, unknown>>;
    if (requests.some((r) => r.model !== name)) return JSON.stringify({ ...json, requests: requests.map((r) => ({ ...r, model: name })) });
  }
  return client.text;
}

export function nativeRequest(client: ClientBody, method: GeminiMethod, ctx: AdapterContext): UpstreamRequest {
  return {
    url: nativeUrl(ctx, method),
    headers: {
      "x-goog-api-key": ctx.apiKey,
      "content-type": "application/json",
      accept: method === "streamGenerateContent" ? "text/event-stream" : "application/json",
    },
    body: upstreamBody(client, method, ctx),
  };
}

function malformed(what: string): GatewayError {
  return new GatewayError("upstream_error", "The provider returned a malformed response.", { detail: `gemini: ${what}` });
}

/** A buffered GenerateContentResponse: only its usage is read (the client gets the upstream's bytes). */
export function nativeUsage(json: unknown): Usage | null {
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success || json === null || typeof json !== "object" || "error" in json) throw malformed("not a GenerateContentResponse");
  return parsed.data.usageMetadata ? usageFromGemini(parsed.data.usageMetadata) : null;
}

const countSchema = z.looseObject({ totalTokens: z.number().int().nonnegative() });

/** `{"totalTokens": n, …}`; counting is free at Gemini, so nothing is metered. */
export function nativeCount(json: unknown): void {
  if (!countSchema.safeParse(json).success) throw malformed("countTokens response has no totalTokens");
}

const values = z.looseObject({ values: z.array(z.number()) });
const embedSchema = z.union([z.looseObject({ embedding: values }), z.looseObject({ embeddings: z.array(values) })]);

/** The Developer API reports no tokens for embeddings: the input estimate is metered, as /v1/embeddings does. */
export function nativeEmbedUsage(json: unknown, estimate: number): Usage {
  if (!embedSchema.safeParse(json).success) throw malformed("not an embeddings answer");
  return { promptTokens: estimate, completionTokens: 0, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
}

const BYTES_PER_TOKEN = 3;

/**
 * The stream relayed frame by frame (`data: <the upstream's JSON>`, CRLF-separated as Google's
 * servers send it). An error object in the stream, or an end without a finishReason or a blocked
 * prompt, ends it as failed with our own error frame; the upstream's text is never echoed.
 */
export class NativeGeminiStream implements StreamTranslator {
  private meta: UsageMetadata | null = null;
  private finished = false;
  private outputBytes = 0;

  push(event: SseEvent): string[] {
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      throw new UpstreamStreamError("gemini: event is not JSON");
    }
    if (json === null || typeof json !== "object" || "error" in json) throw new UpstreamStreamError("gemini: error in stream");
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) throw new UpstreamStreamError("gemini: event is not a GenerateContentResponse");
    const chunk = parsed.data;
    // Counts are cumulative per chunk; the last one seen is the most complete.
    if (chunk.usageMetadata) this.meta = chunk.usageMetadata;
    if (chunk.promptFeedback?.blockReason) this.finished = true;
    for (const candidate of chunk.candidates ?? []) {
      if (candidate.finishReason) this.finished = true;
      for (const part of candidate.content?.parts ?? [])
        this.outputBytes += (part.text ?? "").length + (part.functionCall ? JSON.stringify(part.functionCall).length : 0);
    }
    return [`data: ${event.data}\r\n\r\n`];
  }

  end(): string[] {
    if (!this.finished) throw new UpstreamStreamError("gemini: stream ended without a finishReason");
    return [];
  }

  /** Cut before the last chunk, early chunks carry only the prompt count: what was streamed then counts (bytes / 3). */
  usage(): Usage | null {
    if (!this.meta) return null;
    const usage = usageFromGemini(this.meta);
    if (this.meta.candidatesTokenCount === undefined) usage.completionTokens = Math.max(usage.completionTokens, Math.ceil(this.outputBytes / BYTES_PER_TOKEN));
    return usage;
  }

  errorFrame(code: StreamFailure): string {
    return geminiStreamErrorFrame(code);
  }
}
