/**
 * A key's policy history before its first use, as copied from the control-plane log into the key's
 * own log at that first use (durable-objects/key-guard-history.ts). Pure, so it is tested in Node.
 *
 * The admin API never creates a key's KeyGuard (it would place the Durable Object near the admin),
 * so `key.create` and every change made before the key's first request exist only in the
 * control-plane log until then. Changes made after first use reach the key's log with their push.
 */

/** The actions the keys routes record with a key's policy change (src/routes/admin/keys.ts). */
const POLICY_ACTIONS = new Set(["key.create", "key.patch", "key.revoke", "key.rotate"]);

/** A control-plane row as stored: its seq and the entry's canonical text. */
export interface ControlPlaneRow {
  seq: number;
  entry: string;
}

/** One entry to append to the key's log: the control-plane entry's fields, and its seq as `refSeq`. */
export interface CopiedPolicyEntry {
  ts: number;
  requestId: string;
  actor: string;
  action: string;
  target: string;
  change: Record<string, { before: unknown; after: unknown }> | null;
  refSeq: number;
}

interface AdminRow {
  kind?: string;
  ts: number;
  request_id: string;
  actor: string;
  action: string;
  target: string;
  change: CopiedPolicyEntry["change"];
  ref_seq?: number;
}

/**
 * The entries of `rows` (the control-plane entries targeting `key:<keyId>`, any order) that describe
 * the record the KeyGuard activated at `version`, in control-plane order:
 *  - policy actions only, and not one a later `failed` entry names (its change was not applied);
 *  - not a revoke that changed nothing (a repeated revoke: same version, never pushed either);
 *  - at most `version` of them: every applied change raises the version by one from 1 at creation,
 *    so a change recorded but not yet written to D1 when the key was activated (it is written, then
 *    pushed with its own entry, after) is left to its push. Records without a version: no bound.
 */
export function policyHistoryToCopy(rows: readonly ControlPlaneRow[], keyId: string, version: number | undefined): CopiedPolicyEntry[] {
  const target = `key:${keyId}`;
  const parsed: Array<{ seq: number; entry: AdminRow }> = [];
  for (const row of [...rows].sort((a, b) => a.seq - b.seq)) {
    const entry = parseAdmin(row.entry);
    if (entry?.target === target) parsed.push({ seq: row.seq, entry });
  }
  const failed = new Set(parsed.filter((r) => r.entry.action === "failed").map((r) => r.entry.ref_seq));
  const out: CopiedPolicyEntry[] = [];
  for (const { seq, entry } of parsed) {
    if (!POLICY_ACTIONS.has(entry.action) || failed.has(seq)) continue;
    if (entry.action === "key.revoke" && entry.change === null) continue;
    if (version !== undefined && out.length >= version) break;
    out.push({ ts: entry.ts, requestId: entry.request_id, actor: entry.actor, action: entry.action, target, change: entry.change, refSeq: seq });
  }
  return out;
}

function parseAdmin(text: string): AdminRow | null {
  try {
    const value = JSON.parse(text) as AdminRow;
    return value && value.kind === "admin" && typeof value.action === "string" ? value : null;
  } catch {
    return null;
  }
}
