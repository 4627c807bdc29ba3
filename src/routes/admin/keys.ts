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

/**
 * The Durable Object is the authority, so it is updated first: a revocation or tighter policy is
 * in force even if the catalogue write that follows fails (a retry then repairs the catalogue).
 */
async function save(env: Env, record: KeyRecord, isNew: boolean): Promise<KeyUsage> {
  if (isNew) await insertKeyRecord(env.DB, record);
  const usage = await guard(env, record.id).configure(record);
  if (!isNew) await updateKeyRecord(env.DB, record);
  return usage;
}

keysRoutes.post("/", async (c) => {
  const input = await readBody(c, createKeySchema);
  const { id, secret, token } = generateToken();
  const now = Date.now();
  const blank: KeyRecord = {
    id, name: input.name, secretHash: await hashKeySecret(c.env.KEY_PEPPER, id, secret), last4: secret.slice(-4),
    models: [], monthlyTokenQuota: null, spendCapMicros: null, rpm: null, tpm: null, expiresAt: null,
    metadata: {}, revokedAt: null, createdAt: now, updatedAt: now,
  };
  const record = applyPolicy(blank, input, now);
  const usage = await save(c.env, record, true);
  return c.json({ ...keyView(record, usage), key: token }, 201);
});

keysRoutes.get("/", async (c) => {
  const records = await listKeyRecords(c.env.DB);
  const usages = await Promise.all(records.map((r) => guard(c.env, r.id).usage()));
  return c.json({ object: "list", data: records.map((r, i) => keyView(r, usages[i])) });
});

keysRoutes.get("/:id", async (c) => {
  const record = await findKey(c.env, c.req.param("id"));
  return c.json(keyView(record, await guard(c.env, record.id).usage()));
});

keysRoutes.patch("/:id", async (c) => {
  const record = await findKey(c.env, c.req.param("id"));
  const input = await readBody(c, patchKeySchema);
  const next = applyPolicy(record, input, Date.now());
  return c.json(keyView(next, await save(c.env, next, false)));
});

keysRoutes.post("/:id/revoke", async (c) => {
  const record = await findKey(c.env, c.req.param("id"));
  const now = Date.now();
  const next = record.revokedAt === null ? { ...record, revokedAt: now, updatedAt: now } : record;
  return c.json(keyView(next, await save(c.env, next, false)));
});
