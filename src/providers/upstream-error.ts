import type { UpstreamFailureKind } from "./types";

/** Parse an upstream error body without ever throwing; used only to classify, never echoed. */
export function parseErrorBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

const SAFE_TOKEN = /^[A-Za-z0-9_.-]{1,64}$/;

/** An upstream error type/code is shown only when it is a short identifier (no free text). */
export function safeUpstreamType(value: unknown): string | null {
  return typeof value === "string" && SAFE_TOKEN.test(value) ? value : null;
}

/** The common status → kind mapping; providers refine it (quota 429s, Gemini's 400 bad key). */
export function kindFromStatus(status: number): UpstreamFailureKind {
  if (status === 429) return "rate_limited";
  if (status === 401 || status === 403) return "auth";
  if (status === 402) return "quota_exhausted";
  if (status === 404) return "not_found";
  if (status === 408 || status === 504) return "timeout";
  if (status === 503 || status === 529) return "overloaded";
  if (status >= 400 && status < 500) return "bad_request";
  return "server";
}
