import { utf8 } from "./bytes";

/**
 * Constant-time string equality. Both sides are hashed first so the comparison is always between
 * two 32-byte digests: neither the content nor the length of the secret leaks through timing.
 */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", utf8(a)), crypto.subtle.digest("SHA-256", utf8(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}
