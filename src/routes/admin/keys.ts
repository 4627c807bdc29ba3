import { type Context, Hono } from "hono";
import type { AppEnv, Env } from "../../env";
import { loadBudget } from "../../budgets/catalogue";
import { GatewayError } from "../../errors";
import { insertKeyRecord, type KeyChanges, listKeyRecords, loadKeyRecord, revokeKeyRecord, rotateKeyRecord, updateKeyRecord } from "../../keys/catalogue";
import { policyDiff, type PolicyEvent } from "../../keys/policy-diff";
import { recordChange, recordsOwnEntry } from "../../middleware/control-plane";
import { rotateKeyInput } from "../../keys/rotation";
import { keyView } from "../../keys/key-view";
import { capModeConflict, createKeySchema, patchKeySchema, type PatchKeyInput } from "../../keys/policy-input";
import { hashKeySecret } from "../../keys/secret-hash";
import { checksumOf, generateToken, isKeyId, randomBase62, TOKEN_PREFIX } from "../../keys/token";
import type { KeyRecord, KeyUsage } from "../../keys/types";
import { forgetUnknownKey } from "../../keys/unknown-keys";
import { readBody } from "../../lib/request-body";
import { readOptionalBody } from "../../lib/optional-body";
import { periodOf } from "../../policy/period";
import { usdToMicros } from "../../pricing/price";
import { emitKeyEvent } from "../../webhooks/key-events";

/** Virtual keys: create (the token is shown once), list, read with usage, update policy, revoke. */
export const keysRoutes = new Hono<AppEnv>();

const guard = (env: Env, id: string) => env.KEY_GUARD.getByName(id);

const notFound = (id: string) => new GatewayError("not_found", `No virtual key with id '${id}'.`);

async function findKey(env: Env, id: string): Promise<KeyRecord> {
  const record = isKeyId(id) ? await loadKeyRecord(env.DB, id) : null;
  if (!record) throw notFound(id);
  return record;
}

/** The fields the admin sent, and only those: a PATCH never rewrites what it did not mean to change. */
function policyChanges(input: PatchKeyInput): KeyChanges {
  const changes: KeyChanges = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.models !== undefined) changes.models = input.models;
  if (input.limits !== undefined) {
    // `limits` is the full set: its month tokens / usd become the shorthand columns (null when absent).
    const month = input.limits.find((l) => l.window === "month");
    changes.limits = input.limits.flatMap((l) => (l.window !== "month" ? [l] : l.requests != null ? [{ window: l.window, requests: l.requests }] : []));
    changes.monthlyTokenQuota = month?.tokens ?? null;
    changes.spendCapMicros = month?.usdMicros ?? null;
  }
  if (input.budget_id !== undefined) changes.budgetId = input.budget_id;
  if (input.per_user_limits !== undefined) changes.perUserLimits = input.per_user_limits;
  if (input.monthly_token_quota !== undefined) changes.monthlyTokenQuota = input.monthly_token_quota;
  if (input.spend_cap_usd !== undefined) changes.spendCapMicros = input.spend_cap_usd === null ? null : usdToMicros(input.spend_cap_usd);
  if (input.rpm !== undefined) changes.rpm = input.rpm;
  if (input.tpm !== undefined) changes.tpm = input.tpm;
  if (input.expires_at !== undefined) changes.expiresAt = input.expires_at;
  if (input.metadata !== undefined) changes.metadata = input.metadata;
  if (input.default_max_tokens !== undefined) changes.defaultMaxTokens = input.default_max_tokens;
  if (input.cap_mode !== undefined) changes.capMode = input.cap_mode;
  return changes;
}

/**
 * Optimistic concurrency: `If-Match: "<version>"` (as the ETag shows it; a bare number works too)
 * makes PATCH and revoke apply only to that version. Absent or `*`: they apply to the current one,
 * still writing only their own fields.
 */
function expectedVersion(c: Context<AppEnv>): number | null {
  const raw = c.req.header("if-match")?.trim();
  if (raw === undefined || raw === "*") return null;
  const match = /^(?:"(\d{1,15})"|(\d{1,15}))$/.exec(raw);
  if (!match) throw new GatewayError("invalid_request", `If-Match must be one version of the key, e.g. If-Match: "3" (its ETag).`, { param: "If-Match" });
  return Number(match[1] ?? match[2]);
}

/** A compare-and-swap that matched nothing: the key is unknown (404) or has moved on (409). */
async function swapFailed(env: Env, id: string, expected: number | null): Promise<never> {
  const current = expected === null ? null : await loadKeyRecord(env.DB, id);
  if (!current) throw notFound(id);
  throw new GatewayError("conflict", `The key was changed meanwhile: its version is ${current.version}, not ${expected}. Read it again and retry.`, {
    param: "If-Match",
  });
}

const etag = (record: KeyRecord) => ({ etag: `"${record.version}"` });

/** A key that has never been used has no KeyGuard yet: its usage is zero. */
function blankUsage(now = Date.now()): KeyUsage {
  return { period: periodOf(now), tokens: 0, spend_usd: 0, requests: 0, reserved_tokens: 0, reserved_usd: 0 };
}

/**
 * The admin API never creates a key's KeyGuard: a Durable Object lives where it is first called,
 * and that should be near the agent (its first request), not near the admin. So usage comes from
 * the object only once the key is activated, and a change is written to D1 first, then the row as
 * written is pushed to the object if it exists (see activateKeyRecord for why no interleaving loses
 * the change). The object keeps whichever version is newest, so pushes may arrive in any order. If
 * the push fails the admin gets an error; D1 already holds the change and the object's periodic
 * re-check (RECORD_RECHECK_MS) picks it up.
 */
const usageOf = (env: Env, record: KeyRecord) => (record.activatedAt === null ? blankUsage() : guard(env, record.id).usage());
const push = (env: Env, record: KeyRecord, event?: PolicyEvent) =>
  record.activatedAt === null ? blankUsage() : guard(env, record.id).configure(record, event);

/**
 * The control-plane entry of a key change, written before the change is applied (D1 write); the
 * same change goes to the key's own log with the push (`event`), when the key has a KeyGuard, else
 * the KeyGuard copies it from the control-plane log at the key's first use (key-guard-history.ts).
 */
async function recordKeyChange(c: Context<AppEnv>, action: string, before: KeyRecord | null, after: KeyRecord): Promise<PolicyEvent> {
  const change = policyDiff(before, after);
  const cpSeq = await recordChange(c, { action, target: `key:${after.id}`, change });
  return { actor: c.get("actor").name, requestId: c.get("requestId"), action, change, cpSeq };
}

/** Reads the key for a change; an If-Match that names another version fails here, before any entry. */
async function current(env: Env, id: string, expected: number | null): Promise<KeyRecord> {
  const record = await findKey(env, id);
  if (expected !== null && record.version !== expected) await swapFailed(env, id, expected);
  return record;
}

/** The key as it would be after the write may not combine soft caps with exact-only limits (capModeConflict). */
function checkCapMode(record: KeyRecord): void {
  const conflict = capModeConflict(record);
  if (conflict) throw new GatewayError("invalid_request", `${conflict}.`, { param: "cap_mode" });
}

/** A key may join only a budget that exists. */
async function checkBudget(env: Env, budgetId: string | null | undefined): Promise<void> {
  if (budgetId && !(await loadBudget(env.DB, budgetId))) {
    throw new GatewayError("invalid_request", `No budget with id '${budgetId}'.`, { param: "budget_id" });
  }
}

keysRoutes.post("/", recordsOwnEntry, async (c) => {
  const input = await readBody(c, createKeySchema);
  await checkBudget(c.env, input.budget_id);
  const { id, secret, token } = generateToken();
  const now = Date.now();
  const record: KeyRecord = {
    id,
    name: input.name,
    secretHash: await hashKeySecret(c.env.KEY_PEPPER, id, secret),
    last4: secret.slice(-4),
    models: [],
    monthlyTokenQuota: null,
    spendCapMicros: null,
    rpm: null,
    tpm: null,
    expiresAt: null,
    metadata: {},
    revokedAt: null,
    activatedAt: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
    limits: [],
    budgetId: null,
    ...policyChanges(input),
  };
  checkCapMode(record);
  await recordKeyChange(c, "key.create", null, record);
  await insertKeyRecord(c.env.DB, record);
  forgetUnknownKey(id);
  return c.json({ ...keyView(record, blankUsage(now)), key: token }, 201, etag(record));
});

keysRoutes.get("/", async (c) => {
  const records = await listKeyRecords(c.env.DB);
  const usages = await Promise.all(records.map((r) => usageOf(c.env, r)));
  return c.json({ object: "list", data: records.map((r, i) => keyView(r, usages[i])) });
});

keysRoutes.get("/:id", async (c) => {
  const record = await findKey(c.env, c.req.param("id"));
  return c.json(keyView(record, await usageOf(c.env, record)), 200, etag(record));
});

/**
 * PATCH and revoke read the key, record before → after of the fields they change, then write.
 * With If-Match the write is a compare-and-swap on that version, so `before` is exactly what was
 * replaced. Without it the write still applies to whatever version is current (concurrent PATCHes
 * of different fields both apply); a concurrent change of the same field between the read and the
 * write can make `before` stale, and the other change's own entry shows it.
 */
keysRoutes.patch("/:id", recordsOwnEntry, async (c) => {
  const id = c.req.param("id");
  if (!isKeyId(id)) throw notFound(id);
  const expected = expectedVersion(c);
  const input = await readBody(c, patchKeySchema);
  await checkBudget(c.env, input.budget_id);
  const before = await current(c.env, id, expected);
  const changes = policyChanges(input);
  checkCapMode({ ...before, ...changes });
  const event = await recordKeyChange(c, "key.patch", before, { ...before, ...changes });
  const record = (await updateKeyRecord(c.env.DB, id, changes, expected, Date.now())) ?? (await swapFailed(c.env, id, expected));
  return c.json(keyView(record, await push(c.env, record, event)), 200, etag(record));
});

keysRoutes.post("/:id/revoke", recordsOwnEntry, async (c) => {
  const id = c.req.param("id");
  if (!isKeyId(id)) throw notFound(id);
  const expected = expectedVersion(c);
  const now = Date.now();
  const before = await current(c.env, id, expected);
  const event = await recordKeyChange(c, "key.revoke", before, { ...before, revokedAt: before.revokedAt ?? now });
  const record = (await revokeKeyRecord(c.env.DB, id, expected, now)) ?? (await swapFailed(c.env, id, expected));
  // Alerted once: a repeated revoke keeps the first revoked_at and changes nothing.
  if (record.revokedAt === now) emitKeyEvent(c, "key.revoked", record);
  return c.json(keyView(record, await push(c.env, record, event)), 200, etag(record));
});

/**
 * A new secret for the same key (same id, ledger and log). The previous token keeps working for
 * `grace_seconds` (default 24 h; 0: not at all), then gets 401 key_rotated. A rotation during the
 * grace of an earlier one ends that earlier grace at once: only one previous secret is kept.
 */
keysRoutes.post("/:id/rotate", recordsOwnEntry, async (c) => {
  const id = c.req.param("id");
  if (!isKeyId(id)) throw notFound(id);
  const expected = expectedVersion(c);
  const input = await readOptionalBody(c, rotateKeyInput);
  const before = await current(c.env, id, expected);
  if (before.revokedAt !== null) throw new GatewayError("invalid_request", "A revoked key cannot be rotated.");
  const secret = randomBase62(32);
  const now = Date.now();
  const rotation = {
    secretHash: await hashKeySecret(c.env.KEY_PEPPER, id, secret),
    last4: secret.slice(-4),
    previousSecretHash: before.secretHash,
    previousSecretUntil: now + input.grace_seconds * 1000,
  };
  const event = await recordKeyChange(c, "key.rotate", before, { ...before, ...rotation });
  const record = (await rotateKeyRecord(c.env.DB, id, rotation, before.version, now)) ?? (await swapFailed(c.env, id, before.version));
  const token = `${TOKEN_PREFIX}${id}${secret}${checksumOf(id, secret)}`;
  const view = keyView(record, await push(c.env, record, event));
  const previousUntil = new Date(rotation.previousSecretUntil).toISOString();
  emitKeyEvent(c, "key.rotated", record, { previous_key_valid_until: previousUntil });
  return c.json({ ...view, key: token, previous_key_valid_until: previousUntil }, 200, etag(record));
});
