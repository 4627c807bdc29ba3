import type { Env } from "../env";
import { GatewayError } from "../errors";
import type { ResolvedModel } from "../providers/registry";
import type { AdapterContext, UpstreamFailure, UpstreamRequest } from "../providers/types";
import { type KeySet, keysFor, reportAuthFailure, reportRateLimited } from "./key-source";
import { readCapped } from "./upstream-body";
import { sendUpstream } from "./upstream-call";
import { failureToError } from "./upstream-failure";

export interface Attempt {
  response: Response;
  ctx: AdapterContext;
  keyId: string;
}

/** Builds the upstream request for one pooled key (called again with each key on rotation). */
export type BuildUpstream = (ctx: AdapterContext) => UpstreamRequest;
export type ClassifyError = (status: number, headers: Headers, body: string) => UpstreamFailure;

/** Error bodies are read only to classify them: read at most this much, then hang up. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Sends the request with the provider's healthy keys in turn. A 429 cools the key's scope down and
 * the same request (same provider, same model, same body) goes to the next key; a refused key is
 * disabled and skipped. Nothing reaches the client until a key answers 2xx, so streamed requests
 * replay as safely as buffered ones. Never another provider or model.
 *
 * `classify` defaults to the adapter's (an endpoint with its own wire format passes one).
 */
export async function callWithRotation(
  env: Env,
  route: ResolvedModel,
  build: BuildUpstream,
  base: Omit<AdapterContext, "apiKey">,
  abort: AbortController,
  timeoutMs: number,
  waitUntil?: (p: Promise<unknown>) => void,
  classify: ClassifyError = (status, headers, body) => route.adapter.classifyError(status, headers, body),
  /** Narrows the pool (e.g. to the scope holding stored responses, see home-scope.ts). */
  pick: (keys: KeySet) => KeySet = (keys) => keys,
): Promise<Attempt> {
  const keys = pick(await keysFor(env, route.provider, waitUntil));
  if (!keys.configured) {
    throw new GatewayError("model_not_found", `No key is configured for the provider '${route.provider}'.`, { param: "model" });
  }
  for (const key of keys) {
    const ctx: AdapterContext = { ...base, apiKey: key.apiKey };
    const response = await sendUpstream(route, build(ctx), abort, timeoutMs);
    if (response.ok) return { response, ctx, keyId: key.id };
    const body = await readCapped(response, MAX_ERROR_BODY_BYTES, timeoutMs);
    const failure = classify(response.status, response.headers, body.text);
    if (failure.kind === "rate_limited") {
      await reportRateLimited(env, route.provider, key.id, failure.retryAfterMs);
      continue;
    }
    if (failure.kind === "auth" || failure.kind === "quota_exhausted") {
      await reportAuthFailure(env, route.provider, key.id);
      continue;
    }
    throw failureToError(failure, response.status, key.apiKey);
  }
  // Every key is cooling down or refused: 429 with the pool's earliest recovery while one can recover.
  throw keys.exhaustedError();
}
