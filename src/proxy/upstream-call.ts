import type { Env } from "../env";
import { GatewayError } from "../errors";
import type { ResolvedModel } from "../providers/registry";
import type { UpstreamRequest } from "../providers/types";

const DEFAULT_TIMEOUT_MS = 60_000;

export function upstreamTimeoutMs(env: Env): number {
  return positiveInteger(env.UPSTREAM_TIMEOUT_MS, DEFAULT_TIMEOUT_MS);
}

/**
 * Longest silence between two chunks of a streamed answer. Generous by default: reasoning models
 * can think for minutes before their first token, and OpenAI sends nothing meanwhile.
 */
const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000;

export function streamIdleTimeoutMs(env: Env): number {
  return positiveInteger(env.STREAM_IDLE_TIMEOUT_MS, DEFAULT_STREAM_IDLE_TIMEOUT_MS);
}

function positiveInteger(raw: string | undefined, fallback: number): number {
  const parsed = Number(raw);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/**
 * One HTTP exchange with the provider. The timeout covers the wait for response headers (for a
 * buffered call the caller keeps the same signal while reading the body). Redirects are never
 * followed: a redirect could carry the provider key to another host.
 */
export async function sendUpstream(route: ResolvedModel, call: UpstreamRequest, abort: AbortController, timeoutMs: number): Promise<Response> {
  const timer = setTimeout(() => abort.abort(new GatewayError("upstream_timeout", "The provider timed out.")), timeoutMs);
  try {
    const request = new Request(call.url, {
      method: "POST",
      headers: call.headers,
      body: call.body,
      redirect: "manual",
      signal: abort.signal,
    });
    const response = await (route.inProcess ? raceAbort(route.inProcess(request), abort.signal) : fetch(request));
    if (response.status >= 300 && response.status < 400) {
      throw new GatewayError("upstream_error", `The provider answered with a redirect (HTTP ${response.status}).`);
    }
    return response;
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    if (abort.signal.aborted && abort.signal.reason instanceof GatewayError) throw abort.signal.reason;
    throw new GatewayError("upstream_error", "The provider could not be reached.", { cause: err, detail: String(err) });
  } finally {
    clearTimeout(timer);
  }
}

/** fetch() rejects when its signal aborts; an in-process upstream needs the same behaviour. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    promise.then(resolve, reject);
  });
}
