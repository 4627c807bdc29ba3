import { drizzle } from "drizzle-orm/d1";
import { Hono, type Context } from "hono";
import * as z from "zod";
import type { AuditFailure, AuditHead } from "../../../durable-objects/key-guard-audit";
import { deriveChainKey, genesisHash, verifyChain } from "../../audit/chain";
import { auditReports } from "../../db/schema";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { loadKeyRecord } from "../../keys/catalogue";
import { isKeyId, randomBase62 } from "../../keys/token";
import { parseWith, readBody } from "../../lib/request-body";
import { emitInBackground } from "../../webhooks/emit";

/**
 * The audit chain of a virtual key (mounted at /admin/v1/keys):
 *   GET  /:id/audit?after=&limit=     a page of entries with their chain hashes, and the head
 *   POST /:id/audit/verify            recompute the whole chain, name the first bad seq
 *   POST /:id/audit/reports           sign a checkpoint and the report, store it, return its URL
 * The KeyGuard DO holds the log; every read there waits for its sealer first.
 */
export const auditRoutes = new Hono<AppEnv>();

/** Rows per RPC when verifying: the whole log is streamed, never held at once. */
export const VERIFY_PAGE = 256;

const seqParam = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,14})$/, "must be a non-negative integer")
  .transform(Number);
export const auditPageQuery = z.strictObject({
  after: seqParam.default(0),
  limit: seqParam.pipe(z.int().min(1).max(500)).default(100),
});
export const auditReportInput = z
  .strictObject({ from_seq: z.int().min(1).optional(), to_seq: z.int().min(1).optional() })
  .refine((r) => r.from_seq === undefined || r.to_seq === undefined || r.from_seq <= r.to_seq, {
    message: "from_seq must not be greater than to_seq",
    path: ["to_seq"],
  });

/**
 * The key, and whether its KeyGuard exists: a key never used has an empty log, answered here so
 * that looking at it does not create its Durable Object near the admin (see routes/admin/keys.ts).
 */
async function findKey(env: Env, id: string): Promise<{ keyId: string; active: boolean }> {
  const record = isKeyId(id) ? await loadKeyRecord(env.DB, id) : null;
  if (!record) throw new GatewayError("not_found", `No virtual key with id '${id}'.`);
  return { keyId: record.id, active: record.activatedAt !== null };
}

const guard = (env: Env, id: string) => env.KEY_GUARD.getByName(id);

/** An audit RPC's failure as the API error. */
export function unwrap<R extends { ok: true } | AuditFailure>(result: R): Extract<R, { ok: true }> {
  if (result.ok) return result as Extract<R, { ok: true }>;
  switch (result.code) {
    case "not_found":
      throw new GatewayError("not_found", result.message);
    case "invalid_range":
      throw new GatewayError("invalid_request", result.message);
    case "integrity":
      throw new GatewayError("conflict", result.message);
    default:
      throw new GatewayError("internal_error", "The audit log is not available on this deployment.", { detail: result.message });
  }
}

auditRoutes.get("/:id/audit", async (c) => {
  const { keyId, active } = await findKey(c.env, c.req.param("id"));
  const q = parseWith(auditPageQuery, c.req.query());
  if (!active) {
    const head = { seq: 0, hash: await genesisHash(await chainKeyOf(c.env, keyId), keyId) };
    return c.json({ object: "list", data: [], head, has_more: false });
  }
  const page = unwrap(await guard(c.env, keyId).auditPage(keyId, q.after, q.limit));
  return c.json({
    object: "list",
    data: page.rows.map((row) => ({ ...parseEntry(row.entry, row.seq), hash: row.hash })),
    head: page.head,
    has_more: page.hasMore,
  });
});

/** A stored entry as JSON; a row that is not JSON any more (tampering) is shown, not hidden. */
export function parseEntry(text: string, seq: number): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { seq, unreadable: true };
}

export async function chainKeyOf(env: Env, keyId: string): Promise<CryptoKey> {
  if (!env.AUDIT_HMAC_SECRET) {
    throw new GatewayError("internal_error", "The audit log is not available on this deployment.", { detail: "AUDIT_HMAC_SECRET is not set" });
  }
  return deriveChainKey(env.AUDIT_HMAC_SECRET, keyId);
}

/**
 * Recomputes the chain from h_0 over every stored entry, page by page (each page anchored on the
 * last verified hash). verifyChain checks each stored hash against the recomputed one and stops
 * at the first mismatch, seq gap, reorder or non-canonical entry. A chain cut short at its tail
 * still verifies: only a checkpoint signed before the cut (a report) exposes that.
 */
auditRoutes.post("/:id/audit/verify", async (c) => {
  const { keyId, active } = await findKey(c.env, c.req.param("id"));
  const chainKey = await chainKeyOf(c.env, keyId);
  const stub = guard(c.env, keyId);
  let head: AuditHead & { hash: string } = { seq: 0, hash: await genesisHash(chainKey, keyId) };
  if (!active) return c.json({ valid: true, entries: 0, head, first_invalid_seq: null });
  for (;;) {
    const page = unwrap(await stub.auditPage(keyId, head.seq, VERIFY_PAGE));
    const records = page.rows.map((row) => ({ entry: row.entry, hash: row.hash ?? "" }));
    const result = await verifyChain(chainKey, keyId, records, head);
    head = { seq: head.seq + result.entries, hash: result.head };
    if (!result.valid) {
      const error = result.error && { code: result.error.code, message: result.error.message };
      const alert = { key_id: keyId, first_invalid_seq: result.first_invalid_seq, error_code: error?.code ?? null };
      emitInBackground(c.env, (p) => c.executionCtx.waitUntil(p), "audit.verification_failed", alert);
      return c.json({ valid: false, entries: head.seq, head, first_invalid_seq: result.first_invalid_seq, error });
    }
    if (!page.hasMore) return c.json({ valid: true, entries: head.seq, head, first_invalid_seq: null });
  }
});

auditRoutes.post("/:id/audit/reports", async (c) => {
  const { keyId, active } = await findKey(c.env, c.req.param("id"));
  const input = await readOptionalBody(c);
  if (!active) throw new GatewayError("invalid_request", "The audit log of this key is empty: it has not been used yet.");
  const range = { fromSeq: input.from_seq, toSeq: input.to_seq };
  // 22 base62 characters: about 131 random bits, so report URLs cannot be guessed.
  const id = `rpt_${randomBase62(22)}`;
  // The KeyGuard signs the report under this id with the key that signed its checkpoint.
  const { report } = unwrap(await guard(c.env, keyId).auditReport(keyId, range, id));
  await drizzle(c.env.DB)
    .insert(auditReports)
    .values({ id, keyId, body: JSON.stringify(report) });
  return c.json({ id, url: `${new URL(c.req.url).origin}/reports/${id}` }, 201);
});

/** The range is optional: no body at all means the whole log. */
export async function readOptionalBody(c: Context<AppEnv>): Promise<z.infer<typeof auditReportInput>> {
  if (c.req.raw.body === null || c.req.header("content-length") === "0") return {};
  return readBody(c, auditReportInput);
}
