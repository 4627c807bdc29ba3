import type { ModelPrice } from "../pricing/price";
import type { WindowLimit } from "../policy/windows";

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
  /** Bumped by every admin write (D1 compare-and-swap); a KeyGuard applies only newer versions. */
  version: number;
  /** Window limits beyond the month shorthands (src/policy/windows.ts). Absent in records stored before them. */
  limits?: WindowLimit[];
  /** The shared budget this key also draws on (a BudgetGuard), or null. */
  budgetId?: string | null;
  /** Window limits each end user (AdmitRequest.user; none counts as one user) has within the key. Absent in older records. */
  perUserLimits?: WindowLimit[];
  /** After a rotation: the replaced secret's hash, accepted until `previousSecretUntil` (unix ms), then 401 key_rotated. */
  previousSecretHash?: string | null;
  previousSecretUntil?: number | null;
  /** Output bound for a request that sets none (admin-set; lowered to fit the caps); null/absent: the model's maximum. */
  defaultMaxTokens?: number | null;
  /** "exact" (absent: the default) reserves a bounded worst case; "soft" injects nothing and admits while spent < cap (README). */
  capMode?: CapMode;
}

export type CapMode = "exact" | "soft";

export type Policy = Pick<
  KeyRecord,
  | "models"
  | "monthlyTokenQuota"
  | "spendCapMicros"
  | "rpm"
  | "tpm"
  | "expiresAt"
  | "revokedAt"
  | "limits"
  | "budgetId"
  | "defaultMaxTokens"
  | "capMode"
  | "perUserLimits"
>;

export type DenialCode =
  | "invalid_api_key"
  | "key_revoked"
  | "key_expired"
  | "key_rotated"
  | "model_not_allowed"
  | "rate_limit_exceeded"
  | "quota_exceeded"
  | "spend_cap_exceeded"
  // A field whose cost cannot be bounded, sent with a capped key (see src/proxy/unbounded-fields.ts).
  | "invalid_request";

/** The agent API a request came through, as reserved and audited. */
export type Endpoint = "chat" | "messages" | "count_tokens" | "responses" | "embeddings" | "generate_content";
export const ENDPOINTS: readonly Endpoint[] = ["chat", "messages", "count_tokens", "responses", "embeddings", "generate_content"];

/** What the Worker sends to `KeyGuard.admit()` — one RPC per request. */
export interface AdmitRequest {
  keyId: string;
  requestId: string;
  secretHash: string;
  /** Which agent API; absent means `chat` (the route that predates the field). */
  endpoint?: Endpoint;
  /** Canonical `provider/model`, as audited. */
  model: string;
  provider: string;
  /** Every name the model is known by, for the allow-list. */
  modelNames: string[];
  promptTokens: number;
  /** The client's output cap per choice, or null. */
  maxTokens: number | null;
  /** Completions generated, each up to the output cap (`n`; Gemini's candidateCount). Default 1. */
  choices?: number;
  /** Output tokens billable beyond choices × cap (a predicted output's rejected tokens). Default 0. */
  extraOutputTokens?: number;
  /** A forwarded field whose cost cannot be bounded: refused when the key has a cap of that kind. */
  unbounded?: { param: string; kind: "tokens" | "dollars"; message: string } | null;
  /** The model's maximum output tokens (src/pricing/max-output.ts), null when unknown: the default output bound. */
  modelMaxTokens: number | null;
  /** The provider refuses a request without an output bound (Anthropic's max_tokens): one is always injected. */
  maxTokensRequired?: boolean;
  price: ModelPrice | null;
  stream: boolean;
  /** The end-user id (bounded by src/proxy/attribution.ts): audited, rolled up, and the subject of per-user limits. */
  user?: string;
  /** `x-keyforge-tags` (validated): audited and rolled up; never part of policy matching. */
  tags?: string[];
  /** Settles of this key's earlier requests, carried along instead of sent on their own (src/proxy/settle-batch.ts). */
  settles?: SettleRequest[];
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
  | {
      ok: true;
      /** The output bound the gateway adds to the upstream request (the client sent none), or null: sent as x-keyforge-max-tokens and audited. */
      injectMaxTokens: number | null;
      rate: RateLimitInfo;
    }
  | {
      ok: false;
      code: DenialCode;
      message: string;
      retryAfterMs?: number;
      rate: RateLimitInfo;
      /** No key has this id (as opposed to a wrong secret): the Worker caches that (src/keys/unknown-keys.ts). */
      unknownKey?: true;
    };

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
  /** For keys with window limits: charged + reserved (requests in flight included) in the current 1h / 1d / 7d windows. */
  windows?: { window: string; tokens: number; spend_usd: number; requests: number }[];
}
