import { displayToken } from "./token";
import type { KeyRecord, KeyUsage } from "./types";

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
    expires_at: iso(record.expiresAt),
    metadata: record.metadata,
    created_at: iso(record.createdAt),
    updated_at: iso(record.updatedAt),
    revoked_at: iso(record.revokedAt),
    ...(usage === undefined ? {} : { usage }),
  };
}
