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

/** Waits until `n` entries are stored (settles arrive through waitUntil, after the response). */
export async function waitForEntries(id: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await sqlRows<{ n: number }>(id, "select count(*) as n from audit_entries");
    if (row!.n >= n) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`fewer than ${n} audit entries were written`);
}

export function holdSealer(id: string, paused: boolean): Promise<void> {
  return runInDurableObject(guardOf(id), (instance: KeyGuard) => {
    instance.auditLog.paused = paused;
  });
}
