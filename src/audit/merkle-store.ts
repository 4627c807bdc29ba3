/**
 * The incremental RFC 6962 tree kept by a KeyGuard Durable Object. The store holds only hashes
 * of complete (perfect) subtrees: node (level, index) covers leaves [index·2^level,
 * (index+1)·2^level) and, once written, never changes. So every historical root and proof can
 * be served from the same nodes, each in O(log n) store reads. The store is synchronous
 * because DO SQLite is; functions are async only because Web Crypto hashing is.
 */
import { HASH_SIZE, type Bytes } from "./encoding";
import { AuditError } from "./errors";
import { checkHashes, checkTreeSize, emptyRoot, nodeHash, splitPoint } from "./merkle";

export interface MerkleNodeStore {
  get(level: number, index: number): Uint8Array | undefined;
  put(level: number, index: number, hash: Uint8Array): void;
}

/** A perfect subtree: leaves [index·2^level, (index+1)·2^level). */
export interface MerkleNode {
  level: number;
  index: number;
}

/**
 * The maximal aligned perfect subtrees covering [begin, end), left to right (a "compact range"
 * in transparency-dev terms). For [0, n) these are the subtrees of the binary digits of n.
 */
export function perfectSubtrees(begin: number, end: number): MerkleNode[] {
  const nodes: MerkleNode[] = [];
  let pos = begin;
  while (pos < end) {
    let level = 0;
    while (pos % 2 ** (level + 1) === 0 && pos + 2 ** (level + 1) <= end) level++;
    nodes.push({ level, index: pos / 2 ** level });
    pos += 2 ** level;
  }
  return nodes;
}

export function readNode(store: MerkleNodeStore, node: MerkleNode): Uint8Array {
  const hash = store.get(node.level, node.index);
  if (hash === undefined || hash.length !== HASH_SIZE) {
    throw new AuditError("invalid_input", `store has no valid node at level ${node.level}, index ${node.index}`);
  }
  return hash;
}

/**
 * MTH of leaves [begin, end) for a range the RFC 6962 recursion produces (begin aligned to a
 * power of two ≥ end - begin): the right fold of its perfect subtrees.
 */
async function rangeHash(store: MerkleNodeStore, begin: number, end: number): Promise<Uint8Array> {
  const hashes = perfectSubtrees(begin, end).map((node) => readNode(store, node));
  let acc = hashes.pop() as Uint8Array;
  while (hashes.length > 0) acc = await nodeHash(hashes.pop() as Uint8Array, acc);
  return acc;
}

/** The nodes that appending leaf number `size` writes: the leaf, then each subtree it completes. */
export async function nodesForAppend(store: MerkleNodeStore, size: number, leaf: Uint8Array): Promise<Array<MerkleNode & { hash: Bytes }>> {
  checkTreeSize(size, "size");
  checkHashes([leaf], "leaf hash");
  let node = { level: 0, index: size, hash: Uint8Array.from(leaf) };
  const nodes = [node];
  while (node.index % 2 === 1) {
    const left = readNode(store, { level: node.level, index: node.index - 1 });
    node = { level: node.level + 1, index: (node.index - 1) / 2, hash: await nodeHash(left, node.hash) };
    nodes.push(node);
  }
  return nodes;
}

/**
 * Appends leaf number `size` and returns the new size. All hashing happens before the first
 * write and the writes run with no await between them, so inside a Durable Object they commit
 * as one implicit transaction. A DO that must also write its entry row atomically with the
 * nodes can call `nodesForAppend` and write both itself.
 */
export async function appendLeaf(store: MerkleNodeStore, size: number, leaf: Uint8Array): Promise<number> {
  const nodes = await nodesForAppend(store, size, leaf);
  for (const node of nodes) store.put(node.level, node.index, node.hash);
  return size + 1;
}

/** Root of the tree's first `size` leaves (any size up to the current one). */
export async function rootAt(store: MerkleNodeStore, size: number): Promise<Uint8Array> {
  checkTreeSize(size, "size");
  return size === 0 ? emptyRoot() : rangeHash(store, 0, size);
}

/**
 * RFC 6962 PATH(index, D[size]), bottom-up. Siblings on the left are perfect subtrees; at most
 * one sibling (where the path first turns left) is not, so reads stay O(log n).
 */
export async function inclusionProof(store: MerkleNodeStore, index: number, size: number): Promise<Uint8Array[]> {
  checkTreeSize(index, "index");
  checkTreeSize(size, "size");
  if (index >= size) throw new AuditError("invalid_input", `index ${index} is beyond size ${size}`);
  const topDown: Uint8Array[] = [];
  let [lo, hi] = [0, size];
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      topDown.push(await rangeHash(store, lo + k, hi));
      hi = lo + k;
    } else {
      topDown.push(await rangeHash(store, lo, lo + k));
      lo += k;
    }
  }
  return topDown.reverse();
}

/** RFC 6962 PROOF(size1, D[size2]) for 1 ≤ size1 ≤ size2, in RFC order. */
export async function consistencyProof(store: MerkleNodeStore, size1: number, size2: number): Promise<Uint8Array[]> {
  checkTreeSize(size1, "size1");
  checkTreeSize(size2, "size2");
  if (size1 < 1 || size1 > size2) throw new AuditError("invalid_input", `size1 ${size1} must be in [1, ${size2}]`);
  const topDown: Uint8Array[] = [];
  let [lo, hi, whole] = [0, size2, true];
  while (hi !== size1) {
    const k = splitPoint(hi - lo);
    if (size1 - lo <= k) {
      topDown.push(await rangeHash(store, lo + k, hi));
      hi = lo + k;
    } else {
      topDown.push(await rangeHash(store, lo, lo + k));
      lo += k;
      whole = false;
    }
  }
  // SUBPROOF(m, D[m], false) = {MTH(D[m])}: the old tree's boundary subtree, unless it is the
  // whole old tree, whose root the verifier already holds.
  if (!whole) topDown.push(await rangeHash(store, lo, hi));
  return topDown.reverse();
}
