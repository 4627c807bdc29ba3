import type { Env } from "../env";
import { GatewayError } from "../errors";
import type { ChatCompletionRequest } from "../openai/schema";
import type { ResolvedModel } from "../providers/registry";
import type { AdapterContext, UpstreamFailure } from "../providers/types";
import { chooseKeys, reportKeyRefused, reportRateLimited } from "./key-source";
import { sendUpstream } from "./upstream-call";
import { failureToError } from "./upstream-failure";

export interface Attempt {
  response: Response;
  ctx: AdapterContext;
  keyId: string;
}

/** Error bodies are read only to classify them; cap what we hold. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

async function errorBody(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  return text.slice(0, MAX_ERROR_BODY_BYTES);
}

/**
 * Sends the request with the provider's healthy keys in turn. A 429 cools the key's scope down and
 * the same request (same provider, same model, same body) goes to the next key; a refused key is
 * disabled and skipped. Nothing reaches the client until a key answers 2xx, so streamed requests
 * replay as safely as buffered ones. Never another provider or model.
 */
export async function callWithRotation(
  env: Env,
  route: ResolvedModel,
  request: ChatCompletionRequest,
  base: Omit<AdapterContext, "apiKey">,
  abort: AbortController,
  timeoutMs: number,
): Promise<Attempt> {
  const choice = await chooseKeys(env, route.provider);
  if (!choice.configured) {
    throw new GatewayError("model_not_found", `No key is configured for the provider '${route.provider}'.`, { param: "model" });
  }
  let last: { failure: UpstreamFailure; status: number } | null = null;
  let rateLimited = choice.keys.length === 0;
  let earliestRetryMs = choice.retryAfterMs;
  for (const key of choice.keys) {
    const ctx: AdapterContext = { ...base, apiKey: key.apiKey };
    const response = await sendUpstream(route, route.adapter.buildRequest(request, ctx), abort, timeoutMs);
    if (response.ok) return { response, ctx, keyId: key.id };
    const failure = route.adapter.classifyError(response.status, response.headers, await errorBody(response));
    last = { failure, status: response.status };
    if (failure.kind === "rate_limited") {
      rateLimited = true;
      await reportRateLimited(env, route.provider, key.id, failure.retryAfterMs);
      const retry = failure.retryAfterMs ?? 60_000;
      earliestRetryMs = earliestRetryMs === null ? retry : Math.min(earliestRetryMs, retry);
      continue;
    }
    if (failure.kind === "auth" || failure.kind === "quota_exhausted") {
      await reportKeyRefused(env, route.provider, key.id);
      continue;
    }
    throw failureToError(failure, response.status);
  }
  if (rateLimited || last === null) {
    throw new GatewayError("provider_rate_limited", `Every key of the provider '${route.provider}' is rate limited; retry later.`, {
      retryAfterSeconds: (earliestRetryMs ?? 60_000) / 1000,
    });
  }
  throw failureToError(last.failure, last.status);
}
