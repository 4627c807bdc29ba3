import * as z from "zod";
import { BUDGET_ID, limitsInput } from "../budgets/limits-input";
import { isValidModelPattern } from "../policy/model-glob";

/** Admin input for a virtual key's policy (create and PATCH), validated with clear messages. */

const MAX_METADATA_BYTES = 4096;

/** The last instant an ISO timestamp can name; a later expiry could be stored but never shown. */
const MAX_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const expiresAt = z
  .union([z.iso.datetime({ offset: true }), z.number().int().positive()])
  .transform((v) => (typeof v === "number" ? v * 1000 : Date.parse(v)))
  .refine((ms) => ms > Date.now(), "must be in the future")
  .refine((ms) => ms <= MAX_EXPIRY_MS, "must be before the year 10000");

const modelPattern = z.string().refine(isValidModelPattern, "must be a model name or a glob such as 'gpt-*' or 'anthropic/*'");

const metadata = z
  .record(z.string(), z.unknown())
  .refine((m) => JSON.stringify(m).length <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes of JSON`);

const policyFields = {
  models: z.array(modelPattern).max(100),
  monthly_token_quota: z.number().int().nonnegative().max(1e15).nullable(),
  spend_cap_usd: z.number().nonnegative().max(1e9).nullable(),
  rpm: z.number().int().positive().max(1e7).nullable(),
  tpm: z.number().int().positive().max(1e12).nullable(),
  expires_at: expiresAt.nullable(),
  metadata,
  /** The full set of window limits; a `month` entry's tokens / usd are the two shorthands above. */
  limits: limitsInput,
  budget_id: z.string().regex(BUDGET_ID, "must be a budget id (bud_…)").nullable(),
  /** Window limits per end user within the key (README, "Per-user limits"). */
  per_user_limits: limitsInput,
  /** The output bound for requests that set none (still lowered to fit the key's caps); null: the model's maximum. */
  default_max_tokens: z.number().int().min(1).max(1_000_000).nullable(),
  /** "exact": every request reserves a bounded worst case; "soft": nothing injected, admitted while spent < cap (README, "Output bounds"). */
  cap_mode: z.enum(["exact", "soft"]),
};

const name = z.string().trim().min(1).max(128);

const createKeyObject = z.strictObject({
  name,
  models: policyFields.models.optional(),
  monthly_token_quota: policyFields.monthly_token_quota.optional(),
  spend_cap_usd: policyFields.spend_cap_usd.optional(),
  rpm: policyFields.rpm.optional(),
  tpm: policyFields.tpm.optional(),
  expires_at: policyFields.expires_at.optional(),
  metadata: policyFields.metadata.optional(),
  limits: policyFields.limits.optional(),
  budget_id: policyFields.budget_id.optional(),
  per_user_limits: policyFields.per_user_limits.optional(),
  default_max_tokens: policyFields.default_max_tokens.optional(),
  cap_mode: policyFields.cap_mode.optional(),
});

/** `limits` with a month tokens / usd entry and the matching shorthand in one request would say the same thing twice. */
const shorthandConflict = (v: {
  limits?: { window: string; tokens?: number | null; usdMicros?: number | null }[];
  monthly_token_quota?: unknown;
  spend_cap_usd?: unknown;
}) => {
  const month = v.limits?.find((l) => l.window === "month");
  return !((month?.tokens != null && v.monthly_token_quota !== undefined) || (month?.usdMicros != null && v.spend_cap_usd !== undefined));
};
const conflictMessage = { message: "give a month's tokens / usd either in limits or as monthly_token_quota / spend_cap_usd, not both", path: ["limits"] };

export const createKeySchema = createKeyObject.refine(shorthandConflict, conflictMessage);

export const patchKeySchema = createKeyObject
  .partial()
  .refine((v) => Object.keys(v).length > 0, "at least one field is required")
  .refine(shorthandConflict, conflictMessage);

export type CreateKeyInput = z.infer<typeof createKeySchema>;
export type PatchKeyInput = z.infer<typeof patchKeySchema>;

/**
 * Soft cap mode needs no per-request worst case, so it cannot go with a limit that does: a TPM
 * limit, a shared budget, or a sub-month token / dollar window. Checked on the key as it would be
 * after the write (create, or PATCH merged onto the current record); null when allowed.
 */
export function capModeConflict(record: {
  capMode?: string | undefined;
  tpm: number | null;
  budgetId?: string | null | undefined;
  limits?: { tokens?: number | null; usdMicros?: number | null }[] | undefined;
  perUserLimits?: { tokens?: number | null; usdMicros?: number | null }[] | undefined;
}): string | null {
  if (record.capMode !== "soft") return null;
  if (record.tpm !== null) return "cap_mode 'soft' cannot be combined with tpm (a TPM limit needs each request's bounded worst case)";
  if (record.budgetId != null) return "cap_mode 'soft' cannot be combined with budget_id (a shared budget is exact across its keys)";
  if ((record.limits ?? []).some((l) => l.tokens != null || l.usdMicros != null)) {
    return "cap_mode 'soft' applies to the monthly spend cap and token quota only; hourly, daily and weekly token / usd limits stay exact";
  }
  if ((record.perUserLimits ?? []).some((l) => l.tokens != null || l.usdMicros != null)) {
    return "cap_mode 'soft' cannot be combined with per_user_limits of tokens / usd (they are exact)";
  }
  return null;
}
