import { parseGoDuration, retryAfterMsFromHeaders } from "../retry-after";
import type { UpstreamFailure } from "../types";
import { kindFromStatus, parseErrorBody, safeUpstreamType } from "../upstream-error";
import { errorBodySchema } from "./wire";

/**
 * Gemini error responses (reference §3.5). A bad key is a 400 INVALID_ARGUMENT (not 401), told
 * apart by `ErrorInfo.reason`; a 429's wait is in `RetryInfo.retryDelay` ("43s", "1.68s"), and a
 * per-day quota will not clear by waiting seconds, so it counts as exhausted.
 */

const BAD_KEY_REASONS = new Set(["API_KEY_INVALID", "API_KEY_EXPIRED"]);
const DETAIL = "type.googleapis.com/google.rpc.";

type Detail = Record<string, unknown>;

function detailsOf(body: string): { status: unknown; message: unknown; details: Detail[] } | null {
  let json = parseErrorBody(body);
  // Without alt=sse the streaming endpoint wraps everything, errors included, in a JSON array.
  if (Array.isArray(json)) json = json[0];
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success) return null;
  const { status, message, details } = parsed.data.error;
  return { status, message, details: details ?? [] };
}

function ofType(details: Detail[], type: string): Detail[] {
  return details.filter((detail) => detail["@type"] === `${DETAIL}${type}`);
}

function isBadKey(details: Detail[], message: unknown): boolean {
  if (ofType(details, "ErrorInfo").some((info) => BAD_KEY_REASONS.has(String(info.reason)))) return true;
  // Read (never echoed) for older responses without ErrorInfo: "API key not valid. Please pass a valid API key."
  return typeof message === "string" && /api key/i.test(message);
}

function isPerDayQuota(details: Detail[]): boolean {
  return ofType(details, "QuotaFailure").some((failure) => {
    const violations = Array.isArray(failure.violations) ? (failure.violations as Detail[]) : [];
    return violations.some((v) => typeof v.quotaId === "string" && v.quotaId.includes("PerDay"));
  });
}

function retryDelayMs(details: Detail[]): number | null {
  for (const info of ofType(details, "RetryInfo")) {
    if (typeof info.retryDelay === "string") {
      const ms = parseGoDuration(info.retryDelay);
      if (ms !== null) return ms;
    }
  }
  return null;
}

export function classifyGeminiError(status: number, headers: Headers, body: string): UpstreamFailure {
  const error = detailsOf(body);
  const details = error?.details ?? [];
  let kind = kindFromStatus(status);
  if (status === 400 && error && isBadKey(details, error.message)) kind = "auth";
  if (status === 429 && isPerDayQuota(details)) kind = "quota_exhausted";
  return {
    kind,
    retryAfterMs: retryDelayMs(details) ?? retryAfterMsFromHeaders(headers, Date.now()),
    upstreamType: safeUpstreamType(error?.status),
  };
}
