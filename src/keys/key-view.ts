import { limitView } from "../budgets/limits-input";
import type { WindowLimit } from "../policy/windows";
import { displayToken } from "./token";
import type { KeyRecord, KeyUsage } from "./types";

/** The key's window limits with the month shorthands folded into one `month` entry. */
export function keyLimits(record: KeyRecord): WindowLimit[] {
  const limits = (record.limits ?? []).filter((l) => l.window !== "month");
  const month = (record.limits ?? []).find((l) => l.window === "month");
  if (record.monthlyTokenQuota !== null || record.spendCapMicros !== null || month?.requests != null) {
    limits.push({ window: "month", tokens: record.monthlyTokenQuota, usdMicros: record.spendCapMicros, requests: month?.requests ?? null });
  }
  return limits;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function keyStatus(record: KeyRecord, now = Date.now()): "active" | "revoked" | "expired" {
  if (record.revokedAt !== null) return "revoked";
  if (record.expiresAt !== null && now >= record.expiresAt) return "expired";
  return "active";
}

/** The admin API's view of a key: never the secret or its hash. */
export function keyView(record: KeyRecord, usage?: KeyUsage | null) {
  return {
    id: record.id,
    object: "virtual_key" as const,
    name: record.name,
    display: displayToken(record.id, record.last4),
    status: keyStatus(record),
    models: record.models,
    monthly_token_quota: record.monthlyTokenQuota,
    spend_cap_usd: record.spendCapMicros === null ? null : record.spendCapMicros / 1_000_000,
    rpm: record.rpm,
    tpm: record.tpm,
    /** Every window limit, the month shorthands included (src/policy/windows.ts: calendar UTC windows). */
    limits: keyLimits(record).map(limitView),
    budget_id: record.budgetId ?? null,
    /** Window limits per end user within the key (README, "Per-user limits"). */
    per_user_limits: (record.perUserLimits ?? []).map(limitView),
    /** Output bound for requests that set none (null: the model's maximum, lowered to fit the caps). */
    default_max_tokens: record.defaultMaxTokens ?? null,
    cap_mode: record.capMode ?? "exact",
    expires_at: iso(record.expiresAt),
    metadata: record.metadata,
    created_at: iso(record.createdAt),
    updated_at: iso(record.updatedAt),
    revoked_at: iso(record.revokedAt),
    /** For `If-Match` on PATCH and revoke; the ETag header carries it too. */
    version: record.version,
    ...(usage === undefined ? {} : { usage }),
  };
}
