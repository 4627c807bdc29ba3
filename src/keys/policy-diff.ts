import type { KeyRecord } from "./types";

export type FieldChange = { before: unknown; after: unknown };
export type PolicyChange = Record<string, FieldChange>;

/** What the KeyGuard appends to the key's own log with a pushed record (its policy history). */
export interface PolicyEvent {
  actor: string;
  requestId: string;
  action: string;
  change: PolicyChange | null;
  /** The control-plane entry of the same change: the key's entry names it (`ref_seq`), and it is never appended twice. */
  cpSeq?: number;
}

/**
 * The policy fields an audit entry may show, under their API names. Never the secret or its hash:
 * a rotation shows up as last4 and the previous token's end of grace.
 */
const FIELDS: Array<[string, (r: KeyRecord) => unknown]> = [
  ["name", (r) => r.name],
  ["models", (r) => r.models],
  ["monthly_token_quota", (r) => r.monthlyTokenQuota],
  ["spend_cap_micros", (r) => r.spendCapMicros],
  ["rpm", (r) => r.rpm],
  ["tpm", (r) => r.tpm],
  ["expires_at", (r) => r.expiresAt],
  ["metadata", (r) => r.metadata],
  ["limits", (r) => r.limits ?? []],
  ["budget_id", (r) => r.budgetId ?? null],
  ["per_user_limits", (r) => r.perUserLimits ?? []],
  ["default_max_tokens", (r) => r.defaultMaxTokens ?? null],
  // "exact" is the default: a new key shows cap_mode only when it is soft.
  ["cap_mode", (r) => (r.capMode === "soft" ? "soft" : r.capMode === undefined ? null : "exact")],
  ["revoked_at", (r) => r.revokedAt],
  ["last4", (r) => r.last4],
  ["previous_secret_until", (r) => r.previousSecretUntil ?? null],
];

/** Field → before/after for the fields that differ (`before` null for a new key); null when nothing changed. */
export function policyDiff(before: KeyRecord | null, after: KeyRecord): PolicyChange | null {
  const change: PolicyChange = {};
  for (const [name, get] of FIELDS) {
    const a = get(after);
    const b = before === null ? null : get(before);
    if (before !== null && JSON.stringify(a) === JSON.stringify(b)) continue;
    if (before === null && (a === null || (Array.isArray(a) && a.length === 0))) continue;
    change[name] = { before: b, after: a };
  }
  return Object.keys(change).length === 0 ? null : change;
}
