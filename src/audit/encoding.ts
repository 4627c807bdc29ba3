/**
 * Byte-level helpers of the audit library on top of src/lib/bytes.ts: strict decoders (an
 * encoding accepted two ways is a malleability hole in signed or hashed data) and SHA-256.
 */
import { concatBytes, fromBase64, fromHex, toBase64 } from "../lib/bytes";
import { AuditError } from "./errors";

export type Bytes = Uint8Array<ArrayBuffer>;

/** Every hash in the audit library is SHA-256 or HMAC-SHA256. */
export const HASH_SIZE = 32;

const LOWER_HEX_32 = /^[0-9a-f]{64}$/;

export async function sha256(...parts: Uint8Array[]): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concatBytes(...parts)));
}

/**
 * Equality that does not stop at the first differing byte, so comparing a computed MAC with a
 * supplied one leaks nothing through timing. Portable: workerd's timingSafeEqual is not in Node
 * or browsers.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** A 32-byte hash as 64 lowercase hex digits; upper case is refused so each hash has one spelling. */
export function parseHashHex(hex: string, what: string): Bytes {
  if (!LOWER_HEX_32.test(hex)) {
    throw new AuditError("invalid_input", `${what} must be 64 lowercase hex digits`);
  }
  return fromHex(hex);
}

/** Standard padded base64 whose re-encoding is identical (no stray bits in the last symbol). */
export function parseCanonicalBase64(text: string, what: string): Bytes {
  let bytes: Bytes;
  try {
    bytes = fromBase64(text);
  } catch {
    throw new AuditError("invalid_input", `${what} is not valid base64`);
  }
  if (toBase64(bytes) !== text) throw new AuditError("invalid_input", `${what} is not canonical base64`);
  return bytes;
}

/** Big-endian uint32, the length prefix of the chain encoding and the key id of signed notes. */
export function uint32be(value: number): Bytes {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new AuditError("invalid_input", `${value} does not fit in uint32`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** Base64url without padding (JWK members) to bytes. */
export function fromBase64Url(text: string): Bytes {
  const std = text.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(std + "=".repeat((4 - (std.length % 4)) % 4));
}
