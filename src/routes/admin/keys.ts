import { Hono } from "hono";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { insertKeyRecord, listKeyRecords, loadKeyRecord, updateKeyRecord } from "../../keys/catalogue";
import { keyView } from "../../keys/key-view";
import { createKeySchema, patchKeySchema, type PatchKeyInput } from "../../keys/policy-input";
import { hashKeySecret } from "../../keys/secret-hash";
import { generateToken, isKeyId } from "../../keys/token";
import type { KeyRecord, KeyUsage } from "../../keys/types";
import { readBody } from "../../lib/request-body";
import { periodOf } from "../../policy/period";
import { usdToMicros } from "../../pricing/price";

/** Virtual keys: create (the token is shown once), list, read with usage, update policy, revoke. */
export const keysRoutes = new Hono<AppEnv>();

const guard = (env: Env, id: string) => env.KEY_GUARD.getByName(id);

async function findKey(env: Env, id: string): Promise<KeyRecord> {
  const record = isKeyId(id) ? await loadKeyRecord(env.DB, id) : null;
  if (!record) throw new GatewayError("not_found", `No virtual key with id '${id}'.`);
  return record;
}

function applyPolicy(record: KeyRecord, input: PatchKeyInput, now: number): KeyRecord {
  const next = { ...record, updatedAt: now };
  if (input.name !== undefined) next.name = input.name;
  if (input.models !== undefined) next.models = input.models;
  if (input.monthly_token_quota !== undefined) next.monthlyTokenQuota = input.monthly_token_quota;
  if (input.spend_cap_usd !== undefined) next.spendCapMicros = input.spend_cap_usd === null ? null : usdToMicros(input.spend_cap_usd);
  if (input.rpm !== undefined) next.rpm = input.rpm;
  if (input.tpm !== undefined) next.tpm = input.tpm;
  if (input.expires_at !== undefined) next.expiresAt = input.expires_at;
  if (input.metadata !== undefined) next.metadata = input.metadata;
  return next;
}

/** A key that has never been used has no KeyGuard yet: its usage is zero. */
function blankUsage(now = Date.now()): KeyUsage {
  return { period: periodOf(now), tokens: 0, spend_usd: 0, requests: 0, reserved_tokens: 0, reserved_usd: 0 };
}

/**
 * The admin API never creates a key's KeyGuard: a Durable Object lives where it is first called,
 * and that should be near the agent (its first request), not near the admin. So usage comes from
 * the object only once the key is activated, and a change is written to D1 first, then pushed to
 * the object if it exists (see markActivated for why no interleaving loses the change). If the push
 * fails the admin gets an error and retries; D1 already holds the change.
 */
const usageOf = (env: Env, record: KeyRecord) => (record.activatedAt === null ? blankUsage() : guard(env, record.id).usage());

async function update(env: Env, record: KeyRecord): Promise<KeyUsage> {
  const { activatedAt } = await updateKeyRecord(env.DB, record);
  return activatedAt === null ? blankUsage() : guard(env, record.id).configure({ ...record, activatedAt });
}

keysRoutes.post("/", async (c) => {
  const input = await readBody(c, createKeySchema);
  const { id, secret, token } = generateToken();
  const now = Date.now();
  const blank: KeyRecord = {
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
  };
  const record = applyPolicy(blank, input, now);
  await insertKeyRecord(c.env.DB, record);
  return c.json({ ...keyView(record, blankUsage(now)), key: token }, 201);
});

keysRoutes.get("/", async (c) => {
  const records = await listKeyRecords(c.env.DB);
  const usages = await Promise.all(records.map((r) => usageOf(c.env, r)));
  return c.json({ object: "list", data: records.map((r, i) => keyView(r, usages[i])) });
});

keysRoutes.get("/:id", async (c) => {
  const record = await findKey(c.env, c.req.param("id"));
  return c.json(keyView(record, await usageOf(c.env, record)));
});

keysRoutes.patch("/:id", async (c) => {
  const record = await findKey(c.env, c.req.param("id"));
  const input = await readBody(c, patchKeySchema);
  const next = applyPolicy(record, input, Date.now());
  return c.json(keyView(next, await update(c.env, next)));
});

keysRoutes.post("/:id/revoke", async (c) => {
  const record = await findKey(c.env, c.req.param("id"));
  const now = Date.now();
  const next = record.revokedAt === null ? { ...record, revokedAt: now, updatedAt: now } : record;
  return c.json(keyView(next, await update(c.env, next)));
});
