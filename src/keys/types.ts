import type { ModelPrice } from "../pricing/price";

/** A virtual key as the catalogue (D1) and its KeyGuard Durable Object know it. Money in micro-dollars. */
export interface KeyRecord {
  id: string;
  name: string;
  secretHash: string;
  last4: string;
  models: string[];
  monthlyTokenQuota: number | null;
  spendCapMicros: number | null;
  rpm: number | null;
  tpm: number | null;
  expiresAt: number | null;
  metadata: Record<string, unknown>;
  revokedAt: number | null;
  /** First request with the key (its KeyGuard exists from then on); null while unused. */
  activatedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type Policy = Pick<KeyRecord, "models" | "monthlyTokenQuota" | "spendCapMicros" | "rpm" | "tpm" | "expiresAt" | "revokedAt">;

export type DenialCode =
  "invalid_api_key" | "key_revoked" | "key_expired" | "model_not_allowed" | "rate_limit_exceeded" | "quota_exceeded" | "spend_cap_exceeded";

/** What the Worker sends to `KeyGuard.admit()` — one RPC per request. */
export interface AdmitRequest {
  keyId: string;
  requestId: string;
  secretHash: string;
  /** Canonical `provider/model`, as audited. */
  model: string;
  provider: string;
  /** Every name the model is known by, for the allow-list. */
  modelNames: string[];
  promptTokens: number;
  /** The client's output cap, or null. */
  maxTokens: number | null;
  /** Cap injected upstream when the client sent none and the policy needs a bounded worst case. */
  defaultMaxTokens: number;
  price: ModelPrice | null;
  stream: boolean;
}

export interface RateLimitInfo {
  limitRequests?: number;
  remainingRequests?: number;
  resetRequestsMs?: number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokensMs?: number;
}

export type AdmitResult =
  | { ok: true; injectMaxTokens: number | null; rate: RateLimitInfo }
  | { ok: false; code: DenialCode; message: string; retryAfterMs?: number; rate: RateLimitInfo };

/** What the Worker sends to `KeyGuard.settle()` after the last byte. Idempotent per requestId. */
export interface SettleRequest {
  requestId: string;
  /** HTTP status the client saw (499 = client went away mid-stream). */
  status: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
  latencyMs: number;
}

export interface KeyUsage {
  period: string;
  tokens: number;
  spend_usd: number;
  requests: number;
  reserved_tokens: number;
  reserved_usd: number;
}
