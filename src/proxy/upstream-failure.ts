import { GatewayError } from "../errors";
import { redactString } from "../lib/log";
import type { UpstreamFailure } from "../providers/types";

/** Key fragments shorter than this are too common to mean anything. */
const MIN_KEY_FRAGMENT = 8;

/**
 * The upstream's short error type, unless it could be a credential: an upstream that echoes the key
 * it was sent (or a piece of it) in its error type must not hand that key to the agent.
 */
function shownType(type: string | null, apiKey: string): string {
  if (!type) return "";
  const fromKey = apiKey !== "" && (type.includes(apiKey) || (type.length >= MIN_KEY_FRAGMENT && apiKey.includes(type)));
  return fromKey || redactString(type) !== type ? "" : ` (${type})`;
}

/**
 * An upstream failure that key rotation does not handle (rate limits and refused keys rotate; see
 * rotation.ts), as the agent sees it. Messages are ours; only the upstream's short error type is
 * shown, never its body.
 */
export function failureToError(failure: UpstreamFailure, status: number, apiKey = ""): GatewayError {
  const type = shownType(failure.upstreamType, apiKey);
  const retry = { upstream: failure.kind, ...(failure.retryAfterMs === null ? {} : { retryAfterSeconds: failure.retryAfterMs / 1000 }) };
  switch (failure.kind) {
    case "bad_request":
      return new GatewayError("invalid_request", `The provider rejected the request with HTTP ${status}${type}.`, { upstream: failure.kind });
    case "not_found":
      return new GatewayError("model_not_found", `The provider does not know this model${type}.`, { param: "model", upstream: failure.kind });
    case "timeout":
      return new GatewayError("upstream_timeout", "The provider timed out.", { upstream: failure.kind });
    case "overloaded":
      return new GatewayError("upstream_error", `The provider is overloaded (HTTP ${status})${type}.`, retry);
    default:
      return new GatewayError("upstream_error", `The provider failed with HTTP ${status}${type}.`, retry);
  }
}
