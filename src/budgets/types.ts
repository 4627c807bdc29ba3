import type { WindowLimit } from "../policy/windows";

/** A shared budget as D1 and its BudgetGuard Durable Object know it. Money in micro-dollars. */
export interface BudgetRecord {
  id: string;
  name: string;
  limits: WindowLimit[];
  /** Bumped by every admin write; a BudgetGuard applies only newer versions. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** What a KeyGuard asks of its budget's BudgetGuard, after its own checks passed and reserved. */
export interface BudgetReserveRequest {
  budgetId: string;
  keyId: string;
  requestId: string;
  /** The worst case the key reserved. */
  tokens: number;
  costMicros: number;
  /** The key's admission instant: the request counts in the windows holding it, on both sides. */
  at: number;
}

export type BudgetReserveResult =
  | { ok: true }
  | { ok: false; code: "quota_exceeded" | "spend_cap_exceeded" | "rate_limit_exceeded" | "invalid_api_key"; message: string; retryAfterMs?: number };

export interface BudgetSettleRequest {
  keyId: string;
  requestId: string;
  tokens: number;
  costMicros: number;
}

export interface WindowUsageView {
  window: string;
  period_end: string;
  tokens: number;
  spend_usd: number;
  requests: number;
  reserved_tokens: number;
  reserved_usd: number;
  reserved_requests: number;
  limit: { tokens: number | null; usd: number | null; requests: number | null } | null;
}

export interface BudgetUsage {
  windows: WindowUsageView[];
  /** Per member key id: its share of each window (charged only; reservations are in `windows`). */
  members: Record<string, { window: string; tokens: number; spend_usd: number; requests: number }[]>;
}
