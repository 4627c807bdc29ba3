import * as z from "zod/mini";

/**
 * The admin API's response shapes, checked at the boundary (zod/mini keeps the bundle small).
 * Objects are not strict: a newer gateway may add fields. Enumerations the UI branches on are
 * plain strings, so an unknown status is shown rather than treated as a broken response.
 */

const iso = z.nullable(z.string());

export const keyUsageSchema = z.object({
  period: z.string(),
  tokens: z.number(),
  spend_usd: z.number(),
  requests: z.number(),
  reserved_tokens: z.optional(z.number()),
  reserved_usd: z.optional(z.number()),
});

export const virtualKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  display: z.string(),
  status: z.string(),
  models: z.array(z.string()),
  monthly_token_quota: z.nullable(z.number()),
  spend_cap_usd: z.nullable(z.number()),
  rpm: z.nullable(z.number()),
  tpm: z.nullable(z.number()),
  /** Window limits (the month entry mirrors the two shorthands above) and the shared budget, if any. */
  limits: z.optional(z.array(z.object({ window: z.string(), usd: z.nullable(z.number()), tokens: z.nullable(z.number()), requests: z.nullable(z.number()) }))),
  budget_id: z.optional(z.nullable(z.string())),
  expires_at: iso,
  metadata: z.record(z.string(), z.unknown()),
  created_at: iso,
  updated_at: iso,
  revoked_at: iso,
  usage: z.optional(z.nullable(keyUsageSchema)),
});

export const createdKeySchema = z.extend(virtualKeySchema, { key: z.string() });

export const providerKeySchema = z.object({
  id: z.string(),
  provider: z.string(),
  name: z.optional(z.nullable(z.string())),
  scope: z.optional(z.nullable(z.string())),
  last4: z.string(),
  source: z.optional(z.string()),
  status: z.string(),
  cooldown_until: z.optional(iso),
  created_at: z.optional(iso),
});

export const providerSchema = z.object({
  name: z.string(),
  type: z.string(),
  base_url: z.optional(z.nullable(z.string())),
  builtin: z.optional(z.boolean()),
  created_at: z.optional(iso),
});

export const usageRowSchema = z.object({
  time: z.string(),
  key_id: z.string(),
  // One of the three, by the query's group_by (tag / user null: requests without one).
  model: z.optional(z.string()),
  tag: z.optional(z.nullable(z.string())),
  user: z.optional(z.nullable(z.string())),
  requests: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cost_usd: z.number(),
});

export const usageResponseSchema = z.object({
  granularity: z.string(),
  from: z.string(),
  to: z.string(),
  data: z.array(usageRowSchema),
});

export const auditEntrySchema = z.object({
  seq: z.number(),
  ts: z.number(),
  request_id: z.optional(z.string()),
  model: z.optional(z.string()),
  provider: z.optional(z.string()),
  status: z.optional(z.union([z.number(), z.string()])),
  prompt_tokens: z.optional(z.number()),
  completion_tokens: z.optional(z.number()),
  cost_micros: z.optional(z.number()),
  latency_ms: z.optional(z.number()),
  stream: z.optional(z.boolean()),
  endpoint: z.optional(z.string()),
  /** Coalesced denials: how many requests the entry stands for (absent: one). */
  count: z.optional(z.number()),
  /** The output bound the gateway added (x-keyforge-max-tokens), when it added one. */
  injected_max_tokens: z.optional(z.number()),
  /** "admin": a policy change (key log) or an admin action (control-plane log). */
  kind: z.optional(z.string()),
  actor: z.optional(z.string()),
  action: z.optional(z.string()),
  target: z.optional(z.string()),
  change: z.optional(z.nullable(z.record(z.string(), z.object({ before: z.unknown(), after: z.unknown() })))),
  /** A `failed` admin entry: the seq of the entry whose request then failed. */
  ref_seq: z.optional(z.number()),
  hash: z.string(),
});

export const auditPageSchema = z.object({ data: z.array(auditEntrySchema), head: z.unknown(), has_more: z.optional(z.boolean()) });

export const verifyResultSchema = z.object({
  valid: z.boolean(),
  entries: z.number(),
  head: z.unknown(),
  first_invalid_seq: z.optional(z.nullable(z.number())),
});

export const reportLinkSchema = z.object({ id: z.string(), url: z.string() });

export const listOf = <T extends z.ZodMiniType>(item: T) => z.object({ data: z.array(item) });

export const adminErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), request_id: z.optional(z.string()) }),
});

export type VirtualKey = z.infer<typeof virtualKeySchema>;
export type CreatedKey = z.infer<typeof createdKeySchema>;
export type ProviderKey = z.infer<typeof providerKeySchema>;
export type Provider = z.infer<typeof providerSchema>;
export type UsageRow = z.infer<typeof usageRowSchema>;
export type UsageResponse = z.infer<typeof usageResponseSchema>;
export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type AuditPage = z.infer<typeof auditPageSchema>;
export type VerifyResult = z.infer<typeof verifyResultSchema>;
export type ReportLink = z.infer<typeof reportLinkSchema>;
