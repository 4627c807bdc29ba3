/**
 * Ids that no key has, as their KeyGuard reported, remembered per isolate: a forged token (its CRC-32
 * checksum is public, so anyone can mint well-formed ones) that comes back is refused here, with no
 * HMAC, no Durable Object call and no D1 query. A KeyGuard keeps the same answer for the same time
 * (durable-objects/key-guard.ts), which covers every other isolate.
 *
 * Why a TTL is enough: key ids are drawn at random (16 base62 characters, ~95 bits) when a key is
 * created and its token is shown only after the row is in D1, so no real key's id can have been
 * cached before it existed; were it so, the key would work at most UNKNOWN_KEY_TTL_MS later (as a
 * new custom provider reaches other isolates within the catalogue TTL). Creating a key also clears
 * its id here. Bounded: at most MAX_ENTRIES ids, the oldest evicted first.
 */

export const UNKNOWN_KEY_TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

/** id → when the entry expires (ms). Map order is insertion order: the first entry is the oldest. */
const unknown = new Map<string, number>();

export function isUnknownKey(id: string, now = Date.now()): boolean {
  const until = unknown.get(id);
  if (until === undefined) return false;
  if (now < until) return true;
  unknown.delete(id);
  return false;
}

export function rememberUnknownKey(id: string, now = Date.now()): void {
  unknown.delete(id);
  if (unknown.size >= MAX_ENTRIES) unknown.delete(unknown.keys().next().value!);
  unknown.set(id, now + UNKNOWN_KEY_TTL_MS);
}

export function forgetUnknownKey(id: string): void {
  unknown.delete(id);
}
