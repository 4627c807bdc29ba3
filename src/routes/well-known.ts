import { asc } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { signingKeyring, type SigningKeyring } from "../audit/signing-keys";
import { describeError } from "../audit/errors";
import { auditSigningKeys } from "../db/schema";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";

/**
 * Public, no auth (mounted at /.well-known): `GET /keyforge/audit-keys` lists every checkpoint
 * verifier key: the ones configured now (AUDIT_SIGNING_KEYS; the last is active) and every key
 * ever recorded in D1 when it first signed, so reports signed before a rotation keep verifying.
 */
export const wellKnownRoutes = new Hono<AppEnv>();

interface PublishedKey {
  name: string;
  key_id: string;
  verifier_key: string;
  active: boolean;
  created_at: string | null;
}

async function configuredKeys(secret: string | undefined): Promise<SigningKeyring | null> {
  if (!secret) return null;
  try {
    return await signingKeyring(secret);
  } catch (error) {
    throw new GatewayError("internal_error", "The audit signing keys are misconfigured.", { detail: describeError(error) });
  }
}

wellKnownRoutes.get("/keyforge/audit-keys", async (c) => {
  const keyring = await configuredKeys(c.env.AUDIT_SIGNING_KEYS);
  const active = keyring?.active.verifierKey ?? null;
  const rows = await drizzle(c.env.DB).select().from(auditSigningKeys).orderBy(asc(auditSigningKeys.createdAt)).all();
  const keys: PublishedKey[] = rows.map((r) => ({
    name: r.name,
    key_id: r.keyId,
    verifier_key: r.verifierKey,
    active: r.verifierKey === active,
    created_at: new Date(r.createdAt).toISOString(),
  }));
  // Configured keys that have not signed anything yet are published too (created_at null).
  for (const k of keyring?.keys ?? []) {
    if (keys.some((p) => p.verifier_key === k.verifierKey)) continue;
    keys.push({ name: k.name, key_id: k.keyId, verifier_key: k.verifierKey, active: k.verifierKey === active, created_at: null });
  }
  c.header("cache-control", "public, max-age=300");
  c.header("access-control-allow-origin", "*");
  return c.json({ keys });
});
