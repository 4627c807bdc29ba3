import type { RateLimitInfo } from "../keys/types";
import { formatResetDuration } from "../policy/gcra";

/** OpenAI-style `x-ratelimit-*` headers for a key with RPM / TPM limits. */
export function rateLimitHeaders(info: RateLimitInfo): Record<string, string> {
  const headers: Record<string, string> = {};
  if (info.limitRequests !== undefined) {
    headers["x-ratelimit-limit-requests"] = String(info.limitRequests);
    headers["x-ratelimit-remaining-requests"] = String(info.remainingRequests ?? 0);
    headers["x-ratelimit-reset-requests"] = formatResetDuration(info.resetRequestsMs ?? 0);
  }
  if (info.limitTokens !== undefined) {
    headers["x-ratelimit-limit-tokens"] = String(info.limitTokens);
    headers["x-ratelimit-remaining-tokens"] = String(info.remainingTokens ?? 0);
    headers["x-ratelimit-reset-tokens"] = formatResetDuration(info.resetTokensMs ?? 0);
  }
  return headers;
}
