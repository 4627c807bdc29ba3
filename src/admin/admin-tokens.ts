import { desc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { adminTokens } from "../db/schema";
import { hashKeySecret } from "../keys/secret-hash";
import { randomBase62 } from "../keys/token";

/**
 * Named admin tokens: `kfa_` + 16 base62 id + 32 base62 secret. Stored as HMAC-SHA256(KEY_PEPPER,
 * id:secret) like virtual keys (src/keys/secret-hash.ts); the token itself is shown once, at
 * creation. ADMIN_TOKEN is not a row: it is the built-in admin named ROOT_ACTOR.
 */

export type AdminRole = "admin" | "auditor";
export const ADMIN_ROLES: readonly AdminRole[] = ["admin", "auditor"];
/** The actor name of ADMIN_TOKEN in control-plane entries; reserved, no named token can take it. */
export const ROOT_ACTOR = "root";

/**
 * How long an isolate trusts what it read about a token id. Revoking on an isolate takes effect there
 * at once (the entry is dropped); on every other isolate within this long.
 */
export const ADMIN_TOKEN_CACHE_MS = 30_000;

const TOKEN_PATTERN = /^kfa_([0-9A-Za-z]{16})([0-9A-Za-z]{32})$/;

export interface AdminActor {
  /** Token id, or null for ADMIN_TOKEN. */
  id: string | null;
  name: string;
  role: AdminRole;
}

export interface AdminTokenRow {
  id: string;
  name: string;
  role: AdminRole;
  secretHash: string;
  last4: string;
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
}

export function generateAdminToken(): { id: string; secret: string; token: string } {
  const id = randomBase62(16);
  const secret = randomBase62(32);
  return { id, secret, token: `kfa_${id}${secret}` };
}

export function parseAdminToken(token: string): { id: string; secret: string } | null {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export const hashAdminSecret = (pepper: string, id: string, secret: string) => hashKeySecret(pepper, `kfa:${id}`, secret);

const toRow = (r: typeof adminTokens.$inferSelect): AdminTokenRow => ({ ...r, role: r.role === "admin" ? "admin" : "auditor" });

export async function insertAdminToken(db: D1Database, row: AdminTokenRow): Promise<void> {
  await drizzle(db).insert(adminTokens).values(row);
}

export async function listAdminTokens(db: D1Database): Promise<AdminTokenRow[]> {
  return (await drizzle(db).select().from(adminTokens).orderBy(desc(adminTokens.createdAt)).all()).map(toRow);
}

export async function loadAdminToken(db: D1Database, id: string): Promise<AdminTokenRow | null> {
  const row = await drizzle(db).select().from(adminTokens).where(eq(adminTokens.id, id)).get();
  return row ? toRow(row) : null;
}

export async function nameTaken(db: D1Database, name: string): Promise<boolean> {
  return (await drizzle(db).select({ id: adminTokens.id }).from(adminTokens).where(eq(adminTokens.name, name)).get()) !== undefined;
}

/** Sets revoked_at once; a second revoke keeps the first time. Returns the row as it now is. */
export async function revokeAdminToken(db: D1Database, id: string, now: number): Promise<AdminTokenRow | null> {
  const current = await loadAdminToken(db, id);
  if (!current || current.revokedAt !== null) return current;
  const row = await drizzle(db).update(adminTokens).set({ revokedAt: now }).where(eq(adminTokens.id, id)).returning().get();
  forgetAdminToken(id);
  return row ? toRow(row) : null;
}

/** The public view: never the hash. */
export const adminTokenView = (r: AdminTokenRow) => ({
  id: r.id,
  object: "admin_token",
  name: r.name,
  role: r.role,
  last4: r.last4,
  created_by: r.createdBy,
  created_at: r.createdAt,
  revoked_at: r.revokedAt,
});

// Per isolate: token id → what D1 said (null: no such id), and when. Keeps D1 off warm requests.
const cache = new Map<string, { row: AdminTokenRow | null; at: number }>();
const MAX_CACHED = 1000;

export function forgetAdminToken(id: string): void {
  cache.delete(id);
}

/** The row for a token id, from the isolate's cache when fresher than ADMIN_TOKEN_CACHE_MS. */
export async function cachedAdminToken(db: D1Database, id: string, now = Date.now()): Promise<AdminTokenRow | null> {
  const hit = cache.get(id);
  if (hit && now - hit.at < ADMIN_TOKEN_CACHE_MS) return hit.row;
  const row = await loadAdminToken(db, id);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(id, { row, at: now });
  return row;
}
