/**
 * RFC 6962 Merkle tree hashing and proofs (SHA-256, leaf = H(0x00 || data),
 * node = H(0x01 || left || right)). Verification follows transparency-dev/merkle's proof
 * package; generation follows the RFC 6962 §2.1 definitions literally over an array of leaf
 * hashes (the reference the store-backed tree in merkle-store.ts is tested against).
 *
 * Sizes and indexes are JS numbers up to 2^53 - 1; bit arithmetic is done in BigInt because
 * JS bitwise operators truncate to 32 bits.
 */
import { toHex } from "../lib/bytes";
import { bytesEqual, sha256, HASH_SIZE, type Bytes } from "./encoding";
import { AuditError } from "./errors";

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

export async function leafHash(data: Uint8Array): Promise<Bytes> {
  return sha256(LEAF_PREFIX, data);
}

export async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Bytes> {
  return sha256(NODE_PREFIX, left, right);
}

/** MTH({}) = SHA-256 of the empty string. */
export async function emptyRoot(): Promise<Bytes> {
  return sha256();
}

// ---- input checks ---------------------------------------------------------------------------

export function checkTreeSize(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AuditError("invalid_input", `${what} must be an integer in [0, 2^53): got ${value}`);
  }
  return BigInt(value);
}

export function checkHashes(hashes: readonly Uint8Array[], what: string): void {
  hashes.forEach((hash, i) => {
    if (hash.length !== HASH_SIZE) {
      throw new AuditError("invalid_input", `${what}[${i}] has ${hash.length} bytes, want ${HASH_SIZE}`);
    }
  });
}

function checkProofSize(proof: readonly Uint8Array[], want: number): void {
  if (proof.length !== want) {
    throw new AuditError("proof_size", `wrong proof size ${proof.length}, want ${want}`, {
      expected: String(want),
      calculated: String(proof.length),
    });
  }
}

function verifyMatch(calculated: Uint8Array, expected: Uint8Array, size: number): void {
  if (!bytesEqual(calculated, expected)) {
    throw new AuditError("root_mismatch", `root at size ${size} does not match`, {
      expected: toHex(expected),
      calculated: toHex(calculated),
      size,
    });
  }
}

// ---- bit helpers ----------------------------------------------------------------------------

const bitLength = (x: bigint): number => (x === 0n ? 0 : x.toString(2).length);
const onesCount = (x: bigint): number => x.toString(2).replace(/0/g, "").length;

function trailingZeros(x: bigint): number {
  let n = 0;
  for (let v = x; v > 0n && (v & 1n) === 0n; v >>= 1n) n++;
  return n;
}

/** Splits an inclusion proof into the part below and above where the paths to index and size-1 meet. */
function decompInclProof(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  return { inner, border: onesCount(index >> BigInt(inner)) };
}

async function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Promise<Uint8Array> {
  let hash = seed;
  for (const [i, h] of proof.entries()) {
    hash = ((index >> BigInt(i)) & 1n) === 0n ? await nodeHash(hash, h) : await nodeHash(h, hash);
  }
  return hash;
}

/** Like chainInner, but only left siblings count: the hash of the older version of the subtree. */
async function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Promise<Uint8Array> {
  let hash = seed;
  for (const [i, h] of proof.entries()) {
    if (((index >> BigInt(i)) & 1n) === 1n) hash = await nodeHash(h, hash);
  }
  return hash;
}

async function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Promise<Uint8Array> {
  let hash = seed;
  for (const h of proof) hash = await nodeHash(h, hash);
  return hash;
}

// ---- verification ---------------------------------------------------------------------------

/** The root implied by an inclusion proof of the leaf at `index` in a tree of `size` leaves. */
export async function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Promise<Uint8Array> {
  const i = checkTreeSize(index, "index");
  const n = checkTreeSize(size, "size");
  if (i >= n) throw new AuditError("invalid_input", `index ${index} is beyond size ${size}`);
  checkHashes([leaf], "leaf hash");
  checkHashes(proof, "proof");
  const { inner, border } = decompInclProof(i, n);
  checkProofSize(proof, inner + border);
  const res = await chainInner(leaf, proof.slice(0, inner), i);
  return chainBorderRight(res, proof.slice(inner));
}

export async function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): Promise<void> {
  verifyMatch(await rootFromInclusionProof(index, size, leaf, proof), root, size);
}

/**
 * Verifies that the tree of `size2` leaves with `root2` extends the one of `size1` with `root1`.
 * A proof from size 0 is refused: it would prove nothing (transparency-dev's vectors agree).
 */
export async function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): Promise<void> {
  const m = checkTreeSize(size1, "size1");
  const n = checkTreeSize(size2, "size2");
  if (n < m) throw new AuditError("invalid_input", `size2 ${size2} < size1 ${size1}`);
  if (m === 0n) throw new AuditError("invalid_input", "a consistency proof from the empty tree proves nothing");
  checkHashes(proof, "proof");
  if (m === n) {
    checkProofSize(proof, 0);
    return verifyMatch(root2, root1, size1);
  }
  if (proof.length === 0) throw new AuditError("proof_size", "empty proof");

  const decomposition = decompInclProof(m - 1n, n);
  const shift = trailingZeros(m);
  const inner = decomposition.inner - shift; // shift < inner because size1 < size2
  // The proof starts with the root of the subtree of size 2^shift that ends at size1,
  // unless size1 is that very subtree, whose hash the verifier already has: root1.
  const seedIsRoot1 = m === 1n << BigInt(shift);
  const seed = seedIsRoot1 ? root1 : (proof[0] as Uint8Array);
  const rest = proof.slice(seedIsRoot1 ? 0 : 1);
  checkProofSize(proof, (seedIsRoot1 ? 0 : 1) + inner + decomposition.border);

  const mask = (m - 1n) >> BigInt(shift);
  const hash1 = await chainBorderRight(await chainInnerRight(seed, rest.slice(0, inner), mask), rest.slice(inner));
  verifyMatch(hash1, root1, size1);
  const hash2 = await chainBorderRight(await chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
  verifyMatch(hash2, root2, size2);
}

// ---- generation from leaf hashes (RFC 6962 §2.1, the reference implementation) ---------------

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes. */
export async function rootFromLeafHashes(leaves: readonly Uint8Array[]): Promise<Uint8Array> {
  if (leaves.length === 0) return emptyRoot();
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  const k = splitPoint(leaves.length);
  return nodeHash(await rootFromLeafHashes(leaves.slice(0, k)), await rootFromLeafHashes(leaves.slice(k)));
}

/** PATH(m, D[n]): the audit path of leaf `index`, bottom-up. */
export async function inclusionProofFromLeafHashes(leaves: readonly Uint8Array[], index: number): Promise<Uint8Array[]> {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new AuditError("invalid_input", `index ${index} is outside a tree of ${leaves.length} leaves`);
  }
  if (leaves.length === 1) return [];
  const k = splitPoint(leaves.length);
  if (index < k) {
    return [...(await inclusionProofFromLeafHashes(leaves.slice(0, k), index)), await rootFromLeafHashes(leaves.slice(k))];
  }
  return [...(await inclusionProofFromLeafHashes(leaves.slice(k), index - k)), await rootFromLeafHashes(leaves.slice(0, k))];
}

async function subproof(m: number, leaves: readonly Uint8Array[], whole: boolean): Promise<Uint8Array[]> {
  const n = leaves.length;
  if (m === n) return whole ? [] : [await rootFromLeafHashes(leaves)];
  const k = splitPoint(n);
  if (m <= k) return [...(await subproof(m, leaves.slice(0, k), whole)), await rootFromLeafHashes(leaves.slice(k))];
  return [...(await subproof(m - k, leaves.slice(k), false)), await rootFromLeafHashes(leaves.slice(0, k))];
}

/** PROOF(m, D[n]): the consistency proof from the first `size1` leaves to all of them. */
export async function consistencyProofFromLeafHashes(leaves: readonly Uint8Array[], size1: number): Promise<Uint8Array[]> {
  if (!Number.isSafeInteger(size1) || size1 < 1 || size1 > leaves.length) {
    throw new AuditError("invalid_input", `size1 ${size1} must be in [1, ${leaves.length}]`);
  }
  return subproof(size1, leaves, true);
}
