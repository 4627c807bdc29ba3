import type { Context } from "hono";
import type { AppEnv } from "../env";
import { errorHeaders, type ErrorCode, type GatewayError } from "../errors";
import type { StreamFailure } from "../providers/types";

/**
 * Errors of the Anthropic-shaped surface (/v1/messages…, and /v1/models asked with
 * `anthropic-version`): `{"type":"error","error":{"type","message"},"request_id"}` with Anthropic's
 * types and statuses (reference agent-apis §4.9), so the Anthropic SDK and Claude Code classify and
 * retry them as they would Anthropic's own. Messages stay KeyForge's: upstream bodies are never echoed.
 */

/** The error types Anthropic documents; an upstream type outside this list is never shown. */
export const ANTHROPIC_ERROR_TYPES = new Set([
  "invalid_request_error",
  "authentication_error",
  "billing_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
  "rate_limit_error",
  "api_error",
  "timeout_error",
  "overloaded_error",
]);

const TYPE: Record<ErrorCode, string> = {
  invalid_request: "invalid_request_error",
  request_too_large: "request_too_large",
  unsupported_media_type: "invalid_request_error",
  invalid_api_key: "authentication_error",
  key_revoked: "authentication_error",
  key_expired: "authentication_error",
  key_rotated: "authentication_error",
  unauthorized: "authentication_error",
  quota_exceeded: "rate_limit_error",
  spend_cap_exceeded: "rate_limit_error",
  model_not_allowed: "permission_error",
  forbidden: "permission_error",
  model_not_found: "not_found_error",
  not_found: "not_found_error",
  method_not_allowed: "invalid_request_error",
  conflict: "invalid_request_error",
  rate_limit_exceeded: "rate_limit_error",
  provider_rate_limited: "rate_limit_error",
  internal_error: "api_error",
  upstream_error: "api_error",
  upstream_timeout: "timeout_error",
};

/**
 * A budget denial is a 429 (as Anthropic's own spend-cap errors are) marked `x-should-retry: false`:
 * Claude Code and the SDKs honour that header, and retrying cannot help until the period resets.
 */
const BUDGET: ReadonlySet<ErrorCode> = new Set(["quota_exceeded", "spend_cap_exceeded"]);

export function anthropicError(err: GatewayError): { status: number; type: string; headers: Record<string, string> } {
  const headers = errorHeaders(err);
  if (BUDGET.has(err.code)) {
    delete headers["retry-after"];
    return { status: 429, type: "rate_limit_error", headers: { ...headers, "x-should-retry": "false" } };
  }
  // The provider said it is overloaded (503/529): 529 overloaded_error, which clients back off and retry.
  if (err.upstream === "overloaded") return { status: 529, type: "overloaded_error", headers };
  // A 429 that waiting cannot clear (a request larger than the key's per-minute limit) says so.
  if (err.status === 429 && headers["retry-after"] === undefined) headers["x-should-retry"] = "false";
  return { status: err.status, type: TYPE[err.code], headers };
}

/** Whether this request is answered in Anthropic's shape. */
export function isAnthropicSurface(c: Context<AppEnv>): boolean {
  const path = new URL(c.req.url).pathname;
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) return true;
  return path === "/v1/models" && c.req.header("anthropic-version") !== undefined;
}

export function renderAnthropicError(err: GatewayError, c: Context<AppEnv>, requestId: string): Response {
  const { status, type, headers } = anthropicError(err);
  return c.json({ type: "error", error: { type, message: err.message }, request_id: requestId }, status as 400, {
    ...headers,
    "x-request-id": requestId,
    "request-id": requestId,
  });
}

/** KeyForge's own words for a stream that failed: the upstream's text is never echoed. */
export const STREAM_FAILURE_MESSAGES: Record<StreamFailure, string> = {
  upstream_error: "The provider failed mid-stream.",
  upstream_timeout: "The provider sent nothing for too long.",
};

/** A mid-stream `error` event (after a 200 the error travels in the stream, reference §4.5). */
export function anthropicEventFrame(type: string, message: string): string {
  const shown = ANTHROPIC_ERROR_TYPES.has(type) ? type : "api_error";
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: shown, message } })}\n\n`;
}
