/**
 * Ed25519 keys in C2SP signed-note form (https://c2sp.org/signed-note):
 *
 *   key id        = first 4 bytes (big-endian uint32) of SHA-256(name || "\n" || 0x01 || public key)
 *   verifier key  = <name>+<8 hex id>+<base64(0x01 || 32-byte public key)>
 *   signer key    = PRIVATE+KEY+<name>+<8 hex id>+<base64(0x01 || 32-byte seed)>
 *
 * Web Crypto cannot import a raw Ed25519 seed, so the seed is wrapped in the fixed PKCS#8
 * prefix; it has no "derive public key" call either, so the public key is read from the JWK
 * export (`x`) of the private key. Both work in workerd, Node ≥ 20 and current browsers.
 */
import { concatBytes, fromHex, toBase64, utf8 } from "../lib/bytes";
import { fromBase64Url, parseCanonicalBase64, sha256, type Bytes } from "./encoding";
import { AuditError } from "./errors";

const ALG_ED25519 = 0x01;
const ED25519 = { name: "Ed25519" } as const;
const PKCS8_ED25519_PREFIX = fromHex("302e020100300506032b657004220420");
const SIGNER_PREFIX = "PRIVATE+KEY+";
const ED25519_KEY_SIZE = 32;
const ED25519_SIG_SIZE = 64;

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** The matching verifier key string, safe to publish. */
  readonly verifierKey: string;
  sign(message: Uint8Array): Promise<Bytes>;
}

/** Non-empty, no Unicode spaces, no "+", no control characters, well-formed UTF-16. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085\p{Cc}\p{Cs}]/u.test(name);
}

export const keyIdHex = (keyId: number): string => keyId.toString(16).padStart(8, "0");

export async function noteKeyId(name: string, publicKey: Uint8Array): Promise<number> {
  const digest = await sha256(utf8(name), utf8("\n"), new Uint8Array([ALG_ED25519]), publicKey);
  return new DataView(digest.buffer).getUint32(0);
}

const malformed = (why: string, evidence = {}) => new AuditError("malformed_key", why, evidence);

/** Splits `<name>+<hex id>+<base64>` (the base64 part may itself contain "+"). */
function parseKeyParts(key: string): { name: string; keyId: number; material: Bytes } {
  const first = key.indexOf("+");
  const second = key.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw malformed("key must be <name>+<hex id>+<base64 key>");
  const [name, idHex, b64] = [key.slice(0, first), key.slice(first + 1, second), key.slice(second + 1)];
  if (!isValidKeyName(name)) throw malformed("invalid key name");
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw malformed("key id must be 8 lowercase hex digits");
  let material: Bytes;
  try {
    material = parseCanonicalBase64(b64, "key");
  } catch {
    throw malformed("key material is not canonical base64");
  }
  if (material.length !== 1 + ED25519_KEY_SIZE || material[0] !== ALG_ED25519) {
    throw malformed("key material must be 0x01 followed by a 32-byte Ed25519 key");
  }
  return { name, keyId: parseInt(idHex, 16), material: material.slice(1) };
}

async function checkKeyId(name: string, keyId: number, publicKey: Uint8Array): Promise<void> {
  const calculated = await noteKeyId(name, publicKey);
  if (calculated !== keyId) {
    throw malformed("key id does not match the name and public key", {
      expected: keyIdHex(keyId),
      calculated: keyIdHex(calculated),
    });
  }
}

/** Imports a 32-byte Ed25519 seed; returns a non-extractable signing key and the public key. */
async function importSeed(seed: Uint8Array): Promise<{ privateKey: CryptoKey; publicKey: Bytes }> {
  const pkcs8 = concatBytes(PKCS8_ED25519_PREFIX, seed);
  const exportable = await crypto.subtle.importKey("pkcs8", pkcs8, ED25519, true, ["sign"]);
  const jwk = (await crypto.subtle.exportKey("jwk", exportable)) as JsonWebKey;
  if (typeof jwk.x !== "string") throw malformed("runtime did not export the Ed25519 public key");
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, ED25519, false, ["sign"]);
  return { privateKey, publicKey: fromBase64Url(jwk.x) };
}

export function formatVerifierKey(name: string, keyId: number, publicKey: Uint8Array): string {
  return `${name}+${keyIdHex(keyId)}+${toBase64(concatBytes(new Uint8Array([ALG_ED25519]), publicKey))}`;
}

export async function parseVerifierKey(verifierKey: string): Promise<NoteVerifier> {
  const { name, keyId, material } = parseKeyParts(verifierKey);
  await checkKeyId(name, keyId, material);
  const key = await crypto.subtle.importKey("raw", material, ED25519, false, ["verify"]);
  return {
    name,
    keyId,
    async verify(message, signature) {
      if (signature.length !== ED25519_SIG_SIZE) return false;
      return crypto.subtle.verify(ED25519, key, concatBytes(signature), concatBytes(message));
    },
  };
}

export async function parseSignerKey(signerKey: string): Promise<NoteSigner> {
  if (!signerKey.startsWith(SIGNER_PREFIX)) throw malformed(`signer key must start with ${SIGNER_PREFIX}`);
  const { name, keyId, material: seed } = parseKeyParts(signerKey.slice(SIGNER_PREFIX.length));
  const { privateKey, publicKey } = await importSeed(seed);
  await checkKeyId(name, keyId, publicKey);
  return {
    name,
    keyId,
    verifierKey: formatVerifierKey(name, keyId, publicKey),
    async sign(message) {
      return new Uint8Array(await crypto.subtle.sign(ED25519, privateKey, concatBytes(message)));
    },
  };
}

/** Signer and verifier key strings for a name and a 32-byte seed (e.g. from a Worker secret). */
export async function noteKeysFromSeed(name: string, seed: Uint8Array): Promise<{ signerKey: string; verifierKey: string }> {
  if (!isValidKeyName(name)) throw malformed("invalid key name");
  if (seed.length !== ED25519_KEY_SIZE) throw malformed("Ed25519 seed must be 32 bytes");
  const { publicKey } = await importSeed(seed);
  const keyId = await noteKeyId(name, publicKey);
  const seedB64 = toBase64(concatBytes(new Uint8Array([ALG_ED25519]), seed));
  return {
    signerKey: `${SIGNER_PREFIX}${name}+${keyIdHex(keyId)}+${seedB64}`,
    verifierKey: formatVerifierKey(name, keyId, publicKey),
  };
}

/** A fresh random key pair, for local development and tests. */
export async function generateNoteKeys(name: string): Promise<{ signerKey: string; verifierKey: string }> {
  return noteKeysFromSeed(name, crypto.getRandomValues(new Uint8Array(ED25519_KEY_SIZE)));
}
