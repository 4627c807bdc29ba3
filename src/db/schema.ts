import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { WindowLimit } from "../policy/windows";

/**
 * D1 is the catalogue: listings, the dashboard, and the cold start of a Durable Object. The
 * KeyGuard DO is the authority for a key's live state (usage, reservations, audit chain).
 * Money is integer micro-dollars; times are unix milliseconds.
 */

const now = sql`(unixepoch('subsec') * 1000)`;

export const virtualKeys = sqliteTable(
  "virtual_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Hex HMAC-SHA256(KEY_PEPPER, id:secret); the secret itself is never stored. */
    secretHash: text("secret_hash").notNull(),
    last4: text("last4").notNull(),
    /** JSON array of exact model names and globs; empty = every model. */
    models: text("models", { mode: "json" })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    monthlyTokenQuota: integer("monthly_token_quota"),
    spendCapMicros: integer("spend_cap_micros"),
    rpm: integer("rpm"),
    tpm: integer("tpm"),
    expiresAt: integer("expires_at"),
    metadata: text("metadata", { mode: "json" })
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'`),
    revokedAt: integer("revoked_at"),
    /**
     * When the key's KeyGuard was first created, by the key's first request. Until then the admin API
     * leaves the Durable Object alone, so it is created near the agent, not near the admin.
     */
    activatedAt: integer("activated_at"),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
    /**
     * Bumped by every admin write. PATCH and revoke are compare-and-swap on it (`If-Match`), and a
     * KeyGuard applies a record only if its version is newer than the one it holds.
     */
    version: integer("version").notNull().default(1),
    /** JSON array of window limits other than the month shorthands above (src/policy/windows.ts). */
    limits: text("limits", { mode: "json" })
      .$type<WindowLimit[]>()
      .notNull()
      .default(sql`'[]'`),
    /** The shared budget the key draws on too (budgets.id), or null. */
    budgetId: text("budget_id"),
    /** After a rotation: the replaced secret's hash, accepted until `previous_secret_until` (unix ms), then 401 key_rotated. */
    previousSecretHash: text("previous_secret_hash"),
    previousSecretUntil: integer("previous_secret_until"),
    /** JSON array of window limits each end user has within the key (issue 16, migration 0006). */
    perUserLimits: text("per_user_limits", { mode: "json" })
      .$type<WindowLimit[]>()
      .notNull()
      .default(sql`'[]'`),
    /** Output bound for requests that set none (issue 18, migration 0007); null: the model's maximum. */
    defaultMaxTokens: integer("default_max_tokens"),
    /** "exact" | "soft" (README, "Output bounds"). */
    capMode: text("cap_mode").$type<"exact" | "soft">().notNull().default("exact"),
  },
  (t) => [index("virtual_keys_budget").on(t.budgetId)],
);

/** Shared budgets: window limits enforced together across member keys by one BudgetGuard each. */
export const budgets = sqliteTable("budgets", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  limits: text("limits", { mode: "json" })
    .$type<WindowLimit[]>()
    .notNull()
    .default(sql`'[]'`),
  /** Bumped by every admin write; a BudgetGuard applies only newer versions. */
  version: integer("version").notNull().default(1),
  createdAt: integer("created_at").notNull().default(now),
  updatedAt: integer("updated_at").notNull().default(now),
});

export const providerKeys = sqliteTable(
  "provider_keys",
  {
    id: text("id").primaryKey(),
    provider: text("provider").notNull(),
    name: text("name"),
    /** Rate-limit scope (organisation / project); keys of one scope cool down together. */
    scope: text("scope"),
    /** `v<n>:<base64 iv||ciphertext>` AES-256-GCM, AAD = id and provider. */
    ciphertext: text("ciphertext").notNull(),
    last4: text("last4").notNull(),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("provider_keys_provider").on(t.provider)],
);

export const providers = sqliteTable("providers", {
  name: text("name").primaryKey(),
  type: text("type").notNull(),
  baseUrl: text("base_url").notNull(),
  createdAt: integer("created_at").notNull().default(now),
});

/** Admin-set prices (micro-dollars per 1M tokens) for custom models, or overrides of built-ins. */
export const modelPrices = sqliteTable("model_prices", {
  /** Canonical `provider/model`. */
  model: text("model").primaryKey(),
  input: integer("input").notNull(),
  cachedInput: integer("cached_input").notNull(),
  cacheWrite: integer("cache_write").notNull(),
  output: integer("output").notNull(),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** Hourly usage per key and model, written off the hot path for the dashboard charts. */
export const usageRollups = sqliteTable(
  "usage_rollups",
  {
    keyId: text("key_id").notNull(),
    /** Start of the UTC hour, unix ms. */
    hour: integer("hour").notNull(),
    model: text("model").notNull(),
    requests: integer("requests").notNull().default(0),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    costMicros: integer("cost_micros").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.hour, t.model] }), index("usage_rollups_hour").on(t.hour)],
);

/**
 * Hourly usage per key and tag (`x-keyforge-tags`) or end-user id (OpenAI `user`, Anthropic
 * `metadata.user_id`): `value` '' holds the requests without one, so each kind sums to the key's
 * total (a request with two tags counts under both). At most ATTRIBUTION_VALUES_PER_HOUR distinct
 * values per key, hour and kind; more are rolled up as "(other)". Migration 0006.
 */
export const usageAttribution = sqliteTable(
  "usage_attribution",
  {
    keyId: text("key_id").notNull(),
    /** Start of the UTC hour, unix ms. */
    hour: integer("hour").notNull(),
    /** "tag" | "user" */
    kind: text("kind").notNull(),
    value: text("value").notNull(),
    requests: integer("requests").notNull().default(0),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    costMicros: integer("cost_micros").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.hour, t.kind, t.value] }), index("usage_attribution_kind_hour").on(t.kind, t.hour)],
);

/** Shareable audit reports: self-contained JSON served publicly at /reports/:id. */
export const auditReports = sqliteTable("audit_reports", {
  id: text("id").primaryKey(),
  keyId: text("key_id").notNull(),
  body: text("body").notNull(),
  createdAt: integer("created_at").notNull().default(now),
});

/** Every checkpoint verifier key ever used, so rotated keys stay published. */
export const auditSigningKeys = sqliteTable("audit_signing_keys", {
  /** C2SP verifier key string `<name>+<hex key id>+<base64 0x01||pubkey>`. */
  verifierKey: text("verifier_key").primaryKey(),
  name: text("name").notNull(),
  keyId: text("key_id").notNull(),
  createdAt: integer("created_at").notNull().default(now),
});

/**
 * Alert webhooks (src/webhooks). The signing secret is stored only as vault ciphertext (AAD:
 * provider "webhook", id), like provider keys; it is returned once, at creation.
 */
export const webhooks = sqliteTable("webhooks", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  /** JSON array of subscribed event types. */
  events: text("events", { mode: "json" })
    .$type<string[]>()
    .notNull()
    .default(sql`'[]'`),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  secretCiphertext: text("secret_ciphertext").notNull(),
  createdAt: integer("created_at").notNull().default(now),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** One event for one webhook: retried by the WebhookDispatcher DO until delivered or failed. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    /** The Standard Webhooks `webhook-id` (`msg_…`), the same on every attempt. */
    id: text("id").primaryKey(),
    webhookId: text("webhook_id").notNull(),
    eventType: text("event_type").notNull(),
    /** The exact signed body `{type, timestamp, data}`. */
    payload: text("payload").notNull(),
    /** pending | delivered | failed */
    state: text("state").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    /** When the next attempt is due (null once delivered or failed). */
    nextAttemptAt: integer("next_attempt_at"),
    /** HTTP status of the last attempt (null: no answer, see last_error). The body is never stored. */
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("webhook_deliveries_webhook").on(t.webhookId, t.createdAt), index("webhook_deliveries_due").on(t.state, t.nextAttemptAt)],
);

/** Named admin tokens (`kfa_…`), the actors of control-plane entries. Hashed like virtual keys; ADMIN_TOKEN is the built-in "root". */
export const adminTokens = sqliteTable(
  "admin_tokens",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** "admin" | "auditor" */
    role: text("role").notNull(),
    /** Hex HMAC-SHA256(KEY_PEPPER, id:secret). */
    secretHash: text("secret_hash").notNull(),
    last4: text("last4").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull().default(now),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("admin_tokens_name").on(t.name)],
);
