import { retryAfterMsFromHeaders } from "../retry-after";
import type { UpstreamFailure } from "../types";
import { kindFromStatus, parseErrorBody, safeUpstreamType } from "../upstream-error";
import { errorBodySchema } from "./wire";

/**
 * Anthropic error responses (reference §2.5, §2.6). The monthly spend cap is a 429 too, told apart
 * by `error.details.error_code`; it will not clear by waiting, so it is quota, not a rate limit.
 */

const SPEND_LIMIT_CODES = new Set(["enforced_spend_limit_reached"]);

export function classifyAnthropicError(status: number, headers: Headers, body: string): UpstreamFailure {
  const parsed = errorBodySchema.safeParse(parseErrorBody(body));
  const error = parsed.success ? parsed.data.error : null;
  const errorCode = error?.details?.error_code;
  let kind = kindFromStatus(status);
  if (status === 429 && typeof errorCode === "string" && SPEND_LIMIT_CODES.has(errorCode)) kind = "quota_exhausted";
  return {
    kind,
    // retry-after first, then the RFC 3339 anthropic-ratelimit-*-reset headers (see retry-after.ts).
    retryAfterMs: retryAfterMsFromHeaders(headers, Date.now()),
    upstreamType: safeUpstreamType(error?.type),
  };
}
