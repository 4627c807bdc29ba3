import { checkUpstreamBaseUrl } from "../security/upstream-url";
import { signWebhook } from "./signature";

/** An attempt that has no answer in this long counts as failed (and is retried). */
export const DELIVERY_TIMEOUT_MS = 10_000;

export type AttemptResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

export interface Attempt {
  url: string;
  secret: string;
  /** The message id: the same on every attempt, so the receiver can deduplicate. */
  id: string;
  body: string;
  nowMs: number;
  allowInsecure: boolean;
}

/**
 * One signed POST. Redirects are not followed (a 3xx is a failure: following one would let a
 * receiver point the gateway at a host the SSRF guard refused). The receiver's body is discarded
 * unread; only the status is kept.
 */
export async function attemptDelivery(a: Attempt): Promise<AttemptResult> {
  // Checked again at send time: the guard's rules or ALLOW_INSECURE_UPSTREAMS may have changed.
  const checked = checkUpstreamBaseUrl(a.url, { allowInsecure: a.allowInsecure });
  if (!checked.ok) return { ok: false, status: null, error: `url refused: ${checked.reason}` };
  const timestamp = Math.floor(a.nowMs / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": "KeyForge-Webhooks/1",
    "webhook-id": a.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signWebhook(a.secret, a.id, timestamp, a.body),
  };
  let response: Response;
  try {
    response = await fetch(a.url, { method: "POST", headers, body: a.body, redirect: "manual", signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return { ok: false, status: null, error: timedOut ? `no response within ${DELIVERY_TIMEOUT_MS} ms` : "connection failed" };
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
  const error = response.status >= 300 && response.status < 400 ? "redirect not followed" : `HTTP ${response.status}`;
  return { ok: false, status: response.status, error };
}
