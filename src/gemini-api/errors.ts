import type { Context } from "hono";
import type { AppEnv } from "../env";
import { errorHeaders, type ErrorCode, type GatewayError } from "../errors";
import type { StreamFailure } from "../providers/types";

/**
 * Errors of the Gemini-shaped surface (/v1beta/…, and /v1/models/{model}:{method}, which
 * @google/genai 3.x calls by default): `{"error":{"code","message","status","details"}}` with
 * google.rpc status names (reference provider-wire-formats §3.5), so @google/genai raises an
 * ApiError with the right `status` and Gemini CLI's retry logic classifies it as it would Google's.
 * Messages stay KeyForge's: upstream bodies are never echoed.
 */

const STATUS: Record<ErrorCode, string> = {
  invalid_request: "INVALID_ARGUMENT",
  request_too_large: "INVALID_ARGUMENT",
  unsupported_media_type: "INVALID_ARGUMENT",
  invalid_api_key: "UNAUTHENTICATED",
  key_revoked: "UNAUTHENTICATED",
  key_expired: "UNAUTHENTICATED",
  key_rotated: "UNAUTHENTICATED",
  unauthorized: "UNAUTHENTICATED",
  // Budget denials: Gemini's own answer when prepaid credits run out is 402 RESOURCE_EXHAUSTED.
  quota_exceeded: "RESOURCE_EXHAUSTED",
  spend_cap_exceeded: "RESOURCE_EXHAUSTED",
  model_not_allowed: "PERMISSION_DENIED",
  forbidden: "PERMISSION_DENIED",
  model_not_found: "NOT_FOUND",
  not_found: "NOT_FOUND",
  // A wrong HTTP method: the operation is not supported on this path.
  method_not_allowed: "UNIMPLEMENTED",
  conflict: "ABORTED",
  rate_limit_exceeded: "RESOURCE_EXHAUSTED",
  provider_rate_limited: "RESOURCE_EXHAUSTED",
  internal_error: "INTERNAL",
  upstream_error: "INTERNAL",
  upstream_timeout: "DEADLINE_EXCEEDED",
};

const RPC = "type.googleapis.com/google.rpc.";
/** Under /v1 only Gemini's own methods: `/v1/models/{id}` stays OpenAI's (fine-tuned ids contain colons). */
const GEMINI_MODEL_METHOD = /^\/v1\/models\/.+:(generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$/;

/** Whether this request is answered in Gemini's shape. */
export function isGeminiSurface(c: Context<AppEnv>): boolean {
  const path = new URL(c.req.url).pathname;
  return path === "/v1beta" || path.startsWith("/v1beta/") || GEMINI_MODEL_METHOD.test(path);
}

/**
 * Status and body of an error. A budget denial keeps its 402 (which neither @google/genai's opt-in
 * retry, 408/429/5xx, nor Gemini CLI's, 429/5xx, retries: waiting does not help until the period
 * resets); a 429 carries `RetryInfo.retryDelay` next to `Retry-After`, the field Gemini clients read.
 */
export function geminiError(err: GatewayError): { status: number; body: unknown; headers: Record<string, string> } {
  const headers = errorHeaders(err);
  let status = err.status;
  let rpcStatus = STATUS[err.code];
  // The provider said it is overloaded: 503 UNAVAILABLE, which Gemini clients back off and retry.
  if (err.upstream === "overloaded") {
    status = 503;
    rpcStatus = "UNAVAILABLE";
  }
  const details: unknown[] = [{ "@type": `${RPC}ErrorInfo`, reason: err.code.toUpperCase(), domain: "keyforge" }];
  if (status === 429 && headers["retry-after"] !== undefined) details.push({ "@type": `${RPC}RetryInfo`, retryDelay: `${headers["retry-after"]}s` });
  return { status, body: { error: { code: status, message: err.message, status: rpcStatus, details } }, headers };
}

export function renderGeminiError(err: GatewayError, c: Context<AppEnv>, requestId: string): Response {
  const { status, body, headers } = geminiError(err);
  return c.json(body as object, status as 400, { ...headers, "x-request-id": requestId });
}

/** The terminal frame of a failed stream: an error object, which @google/genai raises as an ApiError. */
export function geminiStreamErrorFrame(code: StreamFailure): string {
  const error =
    code === "upstream_timeout"
      ? { code: 504, message: "The provider sent nothing for too long.", status: "DEADLINE_EXCEEDED" }
      : { code: 502, message: "The provider failed mid-stream.", status: "INTERNAL" };
  return `data: ${JSON.stringify({ error })}\r\n\r\n`;
}
