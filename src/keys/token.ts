/**
 * Virtual-key tokens: `vk_` + 16 base62 id + 32 base62 secret + 6 base62 CRC32 of (id + secret).
 * The checksum lets the Worker reject a mistyped or forged token with no I/O, and the fixed shape
 * lets secret scanners recognise a leaked key. Pure, no I/O.
 */

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const TOKEN_PREFIX = "vk_";
const ID_LENGTH = 16;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const TOKEN_PATTERN = /^vk_([0-9A-Za-z]{16})([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;
const ID_PATTERN = /^[0-9A-Za-z]{16}$/;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3) of the ASCII characters of `text`. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc = (CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function base62Fixed(value: number, width: number): string {
  let out = "";
  let v = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

/** Uniform random base62 string (rejection sampling keeps every character equally likely). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export function checksumOf(id: string, secret: string): string {
  return base62Fixed(crc32(id + secret), CHECKSUM_LENGTH);
}

export interface ParsedToken {
  id: string;
  secret: string;
}

export function generateToken(): ParsedToken & { token: string } {
  const id = randomBase62(ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  return { id, secret, token: `${TOKEN_PREFIX}${id}${secret}${checksumOf(id, secret)}` };
}

/** Returns the id and secret of a well-formed token with a valid checksum, else null. */
export function parseToken(token: string): ParsedToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const [, id, secret, checksum] = match as unknown as [string, string, string, string];
  return checksumOf(id, secret) === checksum ? { id, secret } : null;
}

export function isKeyId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** How listings show a key: `vk_<id>…<last4>`. */
export function displayToken(id: string, last4: string): string {
  return `${TOKEN_PREFIX}${id}…${last4}`;
}

export const TOKEN_LENGTH = TOKEN_PREFIX.length + ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;
