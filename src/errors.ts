import type { UpstreamFailureKind } from "./providers/types";

/**
 * The one error type of the gateway. Routes and middleware throw it; only `app.onError`
 * renders it. `message` is public; `detail` is for logs only and never leaves the Worker.
 */
export type ErrorCode =
  | "invalid_request"
  | "request_too_large"
  | "unsupported_media_type"
  | "invalid_api_key"
  | "key_revoked"
  | "key_expired"
  | "key_rotated"
  | "unauthorized"
  | "quota_exceeded"
  | "spend_cap_exceeded"
  | "model_not_allowed"
  | "forbidden"
  | "model_not_found"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "rate_limit_exceeded"
  | "provider_rate_limited"
  | "internal_error"
  | "upstream_error"
  | "upstream_timeout";

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  request_too_large: 413,
  unsupported_media_type: 415,
  invalid_api_key: 401,
  key_revoked: 401,
  key_expired: 401,
  key_rotated: 401,
  unauthorized: 401,
  quota_exceeded: 402,
  spend_cap_exceeded: 402,
  model_not_allowed: 403,
  forbidden: 403,
  model_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  rate_limit_exceeded: 429,
  provider_rate_limited: 429,
  internal_error: 500,
  upstream_error: 502,
  upstream_timeout: 504,
};

/** OpenAI's `error.type` for each code, so SDKs and users see familiar categories. */
const OPENAI_TYPE: Record<ErrorCode, string> = {
  invalid_request: "invalid_request_error",
  request_too_large: "invalid_request_error",
  unsupported_media_type: "invalid_request_error",
  invalid_api_key: "authentication_error",
  key_revoked: "authentication_error",
  key_expired: "authentication_error",
  key_rotated: "authentication_error",
  unauthorized: "authentication_error",
  quota_exceeded: "insufficient_quota",
  spend_cap_exceeded: "insufficient_quota",
  model_not_allowed: "permission_error",
  forbidden: "permission_error",
  model_not_found: "invalid_request_error",
  not_found: "invalid_request_error",
  method_not_allowed: "invalid_request_error",
  conflict: "invalid_request_error",
  rate_limit_exceeded: "rate_limit_error",
  provider_rate_limited: "rate_limit_error",
  internal_error: "api_error",
  upstream_error: "api_error",
  upstream_timeout: "api_error",
};

export interface GatewayErrorOptions {
  /** What the provider's failure was, when the error stands for one (API shapes other than OpenAI's tell some apart). */
  upstream?: UpstreamFailureKind;
  /** The request field at fault, OpenAI's `param`. */
  param?: string | null;
  /** Sets `Retry-After` (whole seconds, rounded up). */
  retryAfterSeconds?: number;
  /** Extra response headers (rate-limit headers of a denied request). */
  headers?: Record<string, string>;
  /** Internal detail for logs; never rendered. */
  detail?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string>;
  readonly detail: string | undefined;
  readonly upstream: UpstreamFailureKind | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
    this.detail = options.detail;
    this.upstream = options.upstream;
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** `{"error": {message, type, param, code}}` — the OpenAI shape used under /v1. */
export function openAiErrorBody(err: GatewayError) {
  return {
    error: { message: err.message, type: OPENAI_TYPE[err.code], param: err.param, code: err.code },
  };
}

/** `{"error": {code, message, request_id}}` — the shape used by the admin API and everything else. */
export function adminErrorBody(err: GatewayError, requestId: string) {
  return { error: { code: err.code, message: err.message, request_id: requestId } };
}

export function errorHeaders(err: GatewayError): Record<string, string> {
  const headers: Record<string, string> = { ...err.headers };
  if (err.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
  }
  return headers;
}
