import { runInDurableObject } from "cloudflare:test";
import type { KeyGuard } from "../../durable-objects/key-guard";
import { BASE, admin, gatewayFetch } from "./gateway";
import { guardOf, sqlRows } from "./key-guard";

/** Audit helpers: the admin API as a client sees it, plus raw access to the DO's tables for tampering. */

export interface ListedEntry {
  seq: number;
  request_id: string;
  model: string;
  status: number | string;
  cost_micros: number;
  hash: string | null;
  [field: string]: unknown;
}

export interface AuditList {
  data: ListedEntry[];
  head: { seq: number; hash: string | null };
  has_more: boolean;
}

export interface Verification {
  valid: boolean;
  entries: number;
  head: { seq: number; hash: string };
  first_invalid_seq: number | null;
  error?: { code: string; message: string };
}

export interface PublishedKey {
  name: string;
  key_id: string;
  verifier_key: string;
  active: boolean;
  created_at: string | null;
}

export async function listAudit(id: string, query = ""): Promise<AuditList> {
  const res = await admin(`/keys/${id}/audit${query}`);
  if (res.status !== 200) throw new Error(`listAudit: ${res.status} ${await res.text()}`);
  return (await res.json()) as AuditList;
}

/** Every entry, following `has_more`. */
export async function allEntries(id: string): Promise<ListedEntry[]> {
  const out: ListedEntry[] = [];
  for (let after = 0; ;) {
    const page = await listAudit(id, `?after=${after}&limit=500`);
    out.push(...page.data);
    if (!page.has_more) return out;
    after = page.data.at(-1)!.seq;
  }
}

export async function verifyAudit(id: string): Promise<Verification> {
  const res = await admin(`/keys/${id}/audit/verify`, { method: "POST" });
  if (res.status !== 200) throw new Error(`verifyAudit: ${res.status} ${await res.text()}`);
  return (await res.json()) as Verification;
}

export function createReport(id: string, range?: { from_seq?: number; to_seq?: number }): Promise<Response> {
  return admin(`/keys/${id}/audit/reports`, { method: "POST", ...(range === undefined ? {} : { json: range }) });
}

export async function publicJson<T>(path: string): Promise<{ res: Response; body: T }> {
  const res = await gatewayFetch(`${BASE}${path}`);
  return { res, body: (await res.json()) as T };
}

export async function publishedKeys(): Promise<PublishedKey[]> {
  return (await publicJson<{ keys: PublishedKey[] }>("/.well-known/keyforge/audit-keys")).body.keys;
}

/** Runs SQL inside the key's DO, as someone with raw access to its storage would. */
export function tamper(id: string, query: string, ...bindings: unknown[]): Promise<void> {
  return runInDurableObject(guardOf(id), (_instance: KeyGuard, state) => {
    state.storage.sql.exec(query, ...bindings);
  });
}

/**
 * A key's log opens with its policy history, copied from the control-plane log at its first use
 * (key.create, then any change made before it; durable-objects/key-guard-history.ts), and later
 * admin entries (patch, revoke, rotate, expire) sit between requests. These pick out the entries of
 * agent requests (no `kind`), so a test about requests does not depend on how the key was set up.
 */
const IS_REQUEST = "json_extract(entry, '$.kind') is null";

/** Raw rows of the key's request entries, in seq order (for tests that read the DO's table). */
export const REQUEST_ROWS = `select seq, entry from audit_entries where ${IS_REQUEST} order by seq`;

export const isRequestEntry = (e: ListedEntry): boolean => e.kind === undefined;

/** The request entries of the key's log, as the admin API lists them. */
export async function requestEntries(id: string): Promise<ListedEntry[]> {
  return (await allEntries(id)).filter(isRequestEntry);
}

/** How many entries come before the first request's: the key's copied policy history. */
export async function historyLength(id: string): Promise<number> {
  const [row] = await sqlRows<{ seq: number | null }>(id, `select min(seq) as seq from audit_entries where ${IS_REQUEST}`);
  if (row?.seq == null) throw new Error("historyLength: the key has no request entry yet");
  return row.seq - 1;
}

/** Waits until `n` request entries are stored (settles arrive through waitUntil, after the response). */
export async function waitForEntries(id: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await sqlRows<{ n: number }>(id, `select count(*) as n from audit_entries where ${IS_REQUEST}`);
    if (row!.n >= n) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`fewer than ${n} request entries were written`);
}

export function holdSealer(id: string, paused: boolean): Promise<void> {
  return runInDurableObject(guardOf(id), (instance: KeyGuard) => {
    instance.auditLog.paused = paused;
  });
}
