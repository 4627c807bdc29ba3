import { logError } from "../src/lib/log";
import { policyHistoryToCopy, type ControlPlaneRow } from "../src/keys/policy-history";
import type { KeyRecord } from "../src/keys/types";
import { CONTROL_PLANE_LOG_ID } from "./control-plane-log";
import type { AdminFields } from "./key-guard-audit";

/**
 * Expiry in a key's own log. It is not an admin action, so no push carries it: the KeyGuard appends
 * `key.expire` (actor SYSTEM_ACTOR) the first time it sees the key past `expires_at`, once per
 * expiry time — in the synchronous step of the first refused request (before it answers, so no
 * entry after the expiry can precede it), or at the first audit read (list, verify, report,
 * export), so a log read after the expiry always shows it even if no request came.
 *
 * Not by alarm at `expires_at`: an alarm can run late (retries, eviction), and a request could be
 * refused as expired before it. A key that expired before its first use gets it at that first use,
 * after its copied history (below).
 */

/** The actor of entries no admin made (a key's expiry); reserved: no admin token may take the name. */
export const SYSTEM_ACTOR = "system";

const EXPIRY_AUDITED = "audit:key_expired_at";

/** The `key.expire` entry to append now, or null (not expired, or already recorded for this expires_at). */
export function expiryEntry(ctx: DurableObjectState, record: KeyRecord, now: number, requestId: string): AdminFields | null {
  if (record.expiresAt === null || now < record.expiresAt) return null;
  // Revoked while still live: it never ran expired, so its log ends with the revoke.
  if (record.revokedAt !== null && record.revokedAt <= record.expiresAt) return null;
  if (ctx.storage.kv.get(EXPIRY_AUDITED) === record.expiresAt) return null;
  ctx.storage.kv.put(EXPIRY_AUDITED, record.expiresAt);
  return {
    logId: record.id,
    ts: now,
    requestId,
    actor: SYSTEM_ACTOR,
    action: "key.expire",
    target: `key:${record.id}`,
    change: { expired_at: { before: null, after: record.expiresAt } },
  };
}

/**
 * The key's policy history from before its first use (src/keys/policy-history.ts), copied from the
 * control-plane log by the first load of its record, in the same synchronous step as that record,
 * so it precedes every request's entry. Each copied entry keeps the control-plane entry's time,
 * request id, actor, action and change, with `ref_seq` = its control-plane seq; an entry pushed
 * after first use carries its seq the same way. Each control-plane seq is marked when its entry is
 * appended (same step), so neither a reload after a restart nor a push of a change already copied
 * appends it twice.
 */
const COPIED = (cpSeq: number) => `audit:cp_seq:${cpSeq}`;
/** Set when the history could not be fetched at first use: copied at the next audit read or record re-check. */
const HISTORY_PENDING = "audit:history_pending";

/** One control-plane RPC, only on a key's first load (or a retry after it failed): never on a warm request. */
export async function fetchPolicyHistory(env: Cloudflare.Env, keyId: string): Promise<ControlPlaneRow[] | null> {
  try {
    return await env.CONTROL_PLANE_LOG.getByName(CONTROL_PLANE_LOG_ID).keyHistory(keyId);
  } catch (error) {
    logError("policy history fetch failed; copied later", { key_id: keyId, error: String(error) });
    return null;
  }
}

/** Whether `cpSeq` is already in this key's log; marks it if not (call in the step that appends it). */
export function claimControlPlaneSeq(ctx: DurableObjectState, cpSeq: number | undefined): boolean {
  if (cpSeq === undefined) return true;
  if (ctx.storage.kv.get(COPIED(cpSeq)) !== undefined) return false;
  ctx.storage.kv.put(COPIED(cpSeq), 1);
  return true;
}

/** The entries to append now for `history` (null: the fetch failed, so the copy stays pending). */
export function historyEntries(ctx: DurableObjectState, record: KeyRecord, history: readonly ControlPlaneRow[] | null): AdminFields[] {
  if (history === null) {
    ctx.storage.kv.put(HISTORY_PENDING, 1);
    return [];
  }
  ctx.storage.kv.delete(HISTORY_PENDING);
  return policyHistoryToCopy(history, record.id, record.version)
    .filter((e) => claimControlPlaneSeq(ctx, e.refSeq))
    .map((e) => ({ ...e, logId: record.id }));
}

export const historyPending = (ctx: DurableObjectState): boolean => ctx.storage.kv.get(HISTORY_PENDING) !== undefined;
