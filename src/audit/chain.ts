/**
 * The per-key HMAC chain over audit entries (design.md, "Audit chain").
 *
 * Exact encoding (all HMACs are HMAC-SHA256, all hashes 32 bytes, hex in the API):
 *
 *   frame(tag, f1, …, fn) = ASCII(tag) || 0x00 || u32be(len f1) || f1 || … || u32be(len fn) || fn
 *
 *   K_key   = HKDF-SHA256(IKM = audit master secret (UTF-8 if given as a string),
 *                         salt = ASCII("keyforge-audit-chain/v1"), info = UTF-8(key_id), L = 32)
 *   h_0     = HMAC(K_key, frame("keyforge-genesis/v1", UTF-8(key_id)))
 *   h_i     = HMAC(K_key, frame("keyforge-chain-entry/v1", h_{i-1}, entry_i))      for i ≥ 1
 *
 * where entry_i is the RFC 8785 canonical JSON (UTF-8) of the entry whose `seq` is i.
 * The encoding is injective: a tag never contains 0x00, so the first 0x00 ends it and distinct
 * tags give distinct prefixes (genesis and link messages can never collide); every field is
 * length-prefixed and each tag has a fixed field count, so field boundaries are unambiguous.
 * `seq` and `key_id` live inside entry_i, and K_key is per key, so an entry cannot be
 * reordered or moved to another key's chain without breaking the hash.
 */
import { concatBytes, toHex, utf8 } from "../lib/bytes";
import { canonicalEntryBytes, parseCanonicalEntry, type AuditEntry } from "./canonical-json";
import { bytesEqual, parseHashHex, uint32be, HASH_SIZE, type Bytes } from "./encoding";
import { AuditError, describeError, type AuditErrorCode } from "./errors";

export const CHAIN_KEY_SALT = "keyforge-audit-chain/v1";
export const GENESIS_TAG = "keyforge-genesis/v1";
export const ENTRY_TAG = "keyforge-chain-entry/v1";
const MIN_SECRET_BYTES = 16;

/** The domain-separated, length-prefixed message framing described above. */
export function frame(tag: string, ...fields: Uint8Array[]): Bytes {
  if (!/^[\x21-\x7e]+$/.test(tag)) throw new AuditError("invalid_input", "frame tag must be printable ASCII");
  const parts: Uint8Array[] = [utf8(tag), new Uint8Array([0])];
  for (const field of fields) parts.push(uint32be(field.length), field);
  return concatBytes(...parts);
}

/** K_key: one HMAC key per virtual key, so chains of different keys share no key material. */
export async function deriveChainKey(masterSecret: string | Uint8Array, keyId: string): Promise<CryptoKey> {
  const ikm = typeof masterSecret === "string" ? utf8(masterSecret) : concatBytes(masterSecret);
  if (ikm.length < MIN_SECRET_BYTES) {
    throw new AuditError("invalid_input", `audit master secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (keyId === "") throw new AuditError("invalid_input", "key_id must not be empty");
  const hkdfKey = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: utf8(CHAIN_KEY_SALT), info: utf8(keyId) }, hkdfKey, HASH_SIZE * 8);
  return crypto.subtle.importKey("raw", bits, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

async function hmac(chainKey: CryptoKey, message: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", chainKey, message));
}

async function genesisBytes(chainKey: CryptoKey, keyId: string): Promise<Bytes> {
  return hmac(chainKey, frame(GENESIS_TAG, utf8(keyId)));
}

async function linkBytes(chainKey: CryptoKey, previous: Uint8Array, entryBytes: Uint8Array): Promise<Bytes> {
  if (previous.length !== HASH_SIZE) throw new AuditError("invalid_input", "previous hash must be 32 bytes");
  return hmac(chainKey, frame(ENTRY_TAG, previous, entryBytes));
}

/** h_0 of a key's chain, hex. */
export async function genesisHash(chainKey: CryptoKey, keyId: string): Promise<string> {
  return toHex(await genesisBytes(chainKey, keyId));
}

/** h_i from h_{i-1} (hex) and the canonical bytes of entry i. */
export async function nextChainHash(chainKey: CryptoKey, previousHash: string, entryBytes: Uint8Array): Promise<string> {
  return toHex(await linkBytes(chainKey, parseHashHex(previousHash, "previous hash"), entryBytes));
}

/** What the DO stores for a new entry: its canonical JSON text and its chain hash. */
export async function chainEntry(chainKey: CryptoKey, previousHash: string, entry: AuditEntry): Promise<{ canonical: string; hash: string }> {
  const bytes = canonicalEntryBytes(entry);
  return { canonical: new TextDecoder().decode(bytes), hash: await nextChainHash(chainKey, previousHash, bytes) };
}

/** A stored entry: an object, or its canonical JSON as text or bytes, plus its hash (hex). */
export interface ChainRecord {
  entry: AuditEntry | Uint8Array | string;
  hash: string;
}

export interface ChainVerification {
  valid: boolean;
  /** Records that verified, counted from the start. */
  entries: number;
  /** Hash of the last record that verified (h_0 or the anchor when none did). */
  head: string;
  /** Seq of the first chain position that does not verify; null when valid. */
  first_invalid_seq: number | null;
  error?: { code: AuditErrorCode | "unknown"; message: string; expected?: string; calculated?: string };
}

function decodeRecordEntry(entry: ChainRecord["entry"]): { entry: AuditEntry; bytes: Bytes } {
  if (typeof entry === "string") entry = utf8(entry);
  if (entry instanceof Uint8Array) return { entry: parseCanonicalEntry(entry), bytes: concatBytes(entry) };
  return { entry, bytes: canonicalEntryBytes(entry) };
}

/** Checks one chain position (inputs → compute → compare) and returns its hash. */
async function verifyLink(chainKey: CryptoKey, keyId: string, seq: number, previous: Bytes, record: ChainRecord): Promise<Bytes> {
  const { entry, bytes } = decodeRecordEntry(record.entry);
  if (entry.key_id !== keyId) {
    throw new AuditError("chain_order", `entry at seq ${seq} belongs to another key`, { expected: keyId, calculated: entry.key_id, seq });
  }
  if (entry.seq !== seq) {
    throw new AuditError("chain_order", `expected seq ${seq}, found seq ${entry.seq}`, {
      expected: String(seq),
      calculated: String(entry.seq),
      seq,
    });
  }
  const stored = parseHashHex(record.hash, `hash of seq ${seq}`);
  const calculated = await linkBytes(chainKey, previous, bytes);
  if (!bytesEqual(calculated, stored)) {
    // The recomputed MAC is deliberately left out of the evidence: returning it would make
    // verification an oracle that mints valid hashes for tampered entries.
    throw new AuditError("chain_mismatch", `hash of seq ${seq} does not match its entry`, { expected: record.hash, seq });
  }
  return calculated;
}

function errorSummary(error: unknown): NonNullable<ChainVerification["error"]> {
  if (!(error instanceof AuditError)) return { code: "unknown", message: describeError(error) };
  const { expected, calculated } = error.evidence;
  return { code: error.code, message: error.message, expected, calculated };
}

/**
 * Recomputes a key's chain from h_0 (or from `anchor`, the verified hash of seq `anchor.seq`)
 * and names the first seq that does not verify. A chain cut short at its tail still verifies
 * here; only a signed checkpoint (see checkpoint.ts) exposes that.
 */
export async function verifyChain(
  chainKey: CryptoKey,
  keyId: string,
  records: readonly ChainRecord[],
  anchor?: { seq: number; hash: string },
): Promise<ChainVerification> {
  let previous = anchor ? parseHashHex(anchor.hash, "anchor hash") : await genesisBytes(chainKey, keyId);
  const firstSeq = anchor ? anchor.seq + 1 : 1;
  for (const [i, record] of records.entries()) {
    const seq = firstSeq + i;
    try {
      previous = await verifyLink(chainKey, keyId, seq, previous, record);
    } catch (error) {
      return { valid: false, entries: i, head: toHex(previous), first_invalid_seq: seq, error: errorSummary(error) };
    }
  }
  return { valid: true, entries: records.length, head: toHex(previous), first_invalid_seq: null };
}
