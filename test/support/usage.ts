import { admin } from "./gateway";

/** A key's usage as the admin API reports it, and the same once every admitted request has settled. */

export type KeyUsage = { tokens: number; spend_usd: number; requests: number; reserved_tokens: number; reserved_usd: number };

export async function usageOf(id: string): Promise<KeyUsage> {
  return ((await (await admin(`/keys/${id}`)).json()) as { usage: KeyUsage }).usage;
}

/** Settle runs after the response (waitUntil): poll until nothing is reserved any more. */
export async function settledUsage(id: string): Promise<KeyUsage> {
  for (let i = 0; i < 200; i++) {
    const usage = await usageOf(id);
    if (usage.reserved_tokens === 0 && usage.reserved_usd === 0) return usage;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("reservations did not settle");
}
