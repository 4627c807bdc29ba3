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
