import type { SettleRequest } from "../keys/types";
import { logError } from "../lib/log";

/**
 * Settles go to a key's KeyGuard in batches: one `settleMany` RPC (one Durable Object turn, one
 * commit, one seal) for every request of that key that finished within SETTLE_FLUSH_MS in this
 * isolate, instead of one call per request.
 *
 * The request that opens a batch leads it: its timer sends the batch and its `waitUntil` holds
 * until the KeyGuard answered, so the runtime keeps the isolate alive for the whole batch. The
 * others only add their plain data and are done. No promise crosses from one request to another:
 * the runtime cancels a request that waits on another request's promise as hung.
 *
 * Under load nearly every batch rides on the key's next admit instead (takeSettles), and the
 * KeyGuard applies it a few milliseconds later, while that request is upstream, unless its decision
 * needs it first. A batch lost with its isolate is what a lost single
 * settle always was: the KeyGuard's reservation TTL charges each request's worst case.
 */

/** How long the leader waits for company. Far below any provider call, so settles never pile up. */
export const SETTLE_FLUSH_MS = 5;
/** A full batch takes no more: the next settle opens a new one. Bounds the RPC and the object's turn. */
export const SETTLE_BATCH_MAX = 64;

export interface SettleTarget {
  settleMany(requests: SettleRequest[]): Promise<unknown>;
}

const open = new Map<string, SettleRequest[]>();
/** Batches sent and not yet answered, per key: an admit carries them too (below). */
const inFlight = new Map<string, Set<SettleRequest[]>>();

/**
 * Adds one request's settle to its key's open batch. Returns what the request must `waitUntil`:
 * the batch's delivery if it opened the batch, else nothing. Never rejects.
 */
export function queueSettle(keyId: string, target: () => SettleTarget, request: SettleRequest): Promise<void> | null {
  const batch = open.get(keyId);
  if (batch && batch.length < SETTLE_BATCH_MAX) {
    batch.push(request);
    return null;
  }
  const fresh = [request];
  open.set(keyId, fresh);
  return new Promise<void>((resolve) => setTimeout(resolve, SETTLE_FLUSH_MS)).then(() => deliver(keyId, fresh, target));
}

/**
 * The open batch of a key, taken by a request about to be admitted: its admit carries them
 * (AdmitRequest.settles) and the batch's own call is not made. The KeyGuard applies them before its
 * decision when the decision needs them, else a few milliseconds after it. Undefined when there is none.
 */
export function takeSettles(keyId: string): SettleRequest[] | undefined {
  const batch = open.get(keyId);
  const sent = inFlight.get(keyId);
  if (!batch && !sent) return undefined;
  open.delete(keyId);
  // The leader's timer still fires; it finds its batch empty and sends nothing.
  const taken = batch ? batch.splice(0) : [];
  // A batch already on its way may reach the object after this admit (another request's call, so no
  // ordering between the two): carried as well, whichever arrives second is a no-op there.
  for (const pending of sent ?? []) taken.push(...pending);
  return taken;
}

async function deliver(keyId: string, batch: SettleRequest[], target: () => SettleTarget): Promise<void> {
  if (open.get(keyId) === batch) open.delete(keyId);
  if (batch.length === 0) return;
  const sent = inFlight.get(keyId) ?? new Set<SettleRequest[]>();
  inFlight.set(keyId, sent.add(batch));
  try {
    await target().settleMany(batch);
  } catch (error) {
    logError("settle batch failed", { key_id: keyId, requests: batch.length, error: String(error) });
  } finally {
    sent.delete(batch);
    if (sent.size === 0 && inFlight.get(keyId) === sent) inFlight.delete(keyId);
  }
}
