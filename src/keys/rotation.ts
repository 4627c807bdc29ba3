import * as z from "zod";

/** The default grace of a rotated key's previous token: 24 hours. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 60 * 60;

/** `POST /admin/v1/keys/:id/rotate` — grace up to 30 days; 0 ends the previous token at once. */
export const rotateKeyInput = z.strictObject({
  grace_seconds: z
    .int()
    .min(0)
    .max(30 * 24 * 60 * 60)
    .default(DEFAULT_ROTATION_GRACE_SECONDS),
});

export type SecretMatch = "current" | "previous" | "rotated" | null;

/**
 * Which of the key's secrets a presented hash is: the current one, the previous one within its
 * grace, the previous one after it ("rotated": 401 key_rotated), or none. `equal` is constant-time.
 */
export function matchSecret(
  record: { secretHash: string; previousSecretHash?: string | null; previousSecretUntil?: number | null },
  given: string,
  now: number,
  equal: (stored: string, given: string) => boolean,
): SecretMatch {
  if (equal(record.secretHash, given)) return "current";
  if (!record.previousSecretHash || !equal(record.previousSecretHash, given)) return null;
  return now < (record.previousSecretUntil ?? 0) ? "previous" : "rotated";
}
