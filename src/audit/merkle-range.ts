/**
 * Range proofs: that leaves [begin, end) are exactly the leaves at those positions of a tree of
 * `size` leaves with a given root. The proof is two compact ranges (transparency-dev/merkle's
 * `compact` package): the perfect-subtree hashes covering [0, begin) and those covering
 * [end, size), each left to right. The verifier merges left ∪ its own leaves ∪ right into the
 * compact range of [0, size), whose right fold is the RFC 6962 root. Sizes are exact, so there
 * is one valid proof per (begin, end, size). It is O(k + log n) hashes for k leaves, where k
 * inclusion proofs would be O(k log n), and a gap, insertion or reorder inside the range changes
 * the root.
 */
import { toHex } from "../lib/bytes";
import { bytesEqual } from "./encoding";
import { AuditError } from "./errors";
import { checkHashes, checkTreeSize, nodeHash, rootFromLeafHashes } from "./merkle";
import { perfectSubtrees, readNode, type MerkleNodeStore } from "./merkle-store";

export interface RangeProof {
  /** Hashes of perfectSubtrees(0, begin). */
  left: Uint8Array[];
  /** Hashes of perfectSubtrees(end, size). */
  right: Uint8Array[];
}

function checkRange(begin: number, end: number, size: number): void {
  checkTreeSize(begin, "begin");
  checkTreeSize(end, "end");
  checkTreeSize(size, "size");
  if (!(begin < end && end <= size)) {
    throw new AuditError("invalid_input", `range [${begin}, ${end}) is empty or outside a tree of ${size} leaves`);
  }
}

/** Range proof from the DO's node store: O(log n) reads, all of stored perfect subtrees. */
export async function rangeProof(store: MerkleNodeStore, begin: number, end: number, size: number): Promise<RangeProof> {
  checkRange(begin, end, size);
  return {
    left: perfectSubtrees(0, begin).map((node) => readNode(store, node)),
    right: perfectSubtrees(end, size).map((node) => readNode(store, node)),
  };
}

/** Reference range proof over all leaf hashes. */
export async function rangeProofFromLeafHashes(leaves: readonly Uint8Array[], begin: number, end: number): Promise<RangeProof> {
  checkRange(begin, end, leaves.length);
  const hashOf = (node: { level: number; index: number }) => rootFromLeafHashes(leaves.slice(node.index * 2 ** node.level, (node.index + 1) * 2 ** node.level));
  return {
    left: await Promise.all(perfectSubtrees(0, begin).map(hashOf)),
    right: await Promise.all(perfectSubtrees(end, leaves.length).map(hashOf)),
  };
}

type StackNode = { level: number; hash: Uint8Array };

/** Appends an aligned perfect subtree to a compact range [0, x), merging siblings (binary carry). */
async function pushMerging(stack: StackNode[], node: StackNode): Promise<void> {
  let current = node;
  for (let top = stack.at(-1); top !== undefined && top.level === current.level; top = stack.at(-1)) {
    stack.pop();
    current = { level: current.level + 1, hash: await nodeHash(top.hash, current.hash) };
  }
  stack.push(current);
}

function checkPart(part: readonly Uint8Array[], want: number, what: string): void {
  checkHashes(part, what);
  if (part.length !== want) {
    throw new AuditError("proof_size", `wrong ${what} size ${part.length}, want ${want}`, {
      expected: String(want),
      calculated: String(part.length),
    });
  }
}

/** The root implied by leaves [begin, end) and their range proof in a tree of `size` leaves. */
export async function rootFromRangeProof(begin: number, end: number, size: number, leaves: readonly Uint8Array[], proof: RangeProof): Promise<Uint8Array> {
  checkRange(begin, end, size);
  checkPart(leaves, end - begin, "leaves");
  const leftNodes = perfectSubtrees(0, begin);
  const rightNodes = perfectSubtrees(end, size);
  checkPart(proof.left, leftNodes.length, "left proof");
  checkPart(proof.right, rightNodes.length, "right proof");

  const stack: StackNode[] = leftNodes.map((node, i) => ({ level: node.level, hash: proof.left[i] as Uint8Array }));
  for (const leaf of leaves) await pushMerging(stack, { level: 0, hash: leaf });
  for (const [i, node] of rightNodes.entries()) await pushMerging(stack, { level: node.level, hash: proof.right[i] as Uint8Array });

  let root = (stack.pop() as StackNode).hash;
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) root = await nodeHash(node.hash, root);
  return root;
}

export async function verifyRange(begin: number, end: number, size: number, leaves: readonly Uint8Array[], proof: RangeProof, root: Uint8Array): Promise<void> {
  const calculated = await rootFromRangeProof(begin, end, size, leaves, proof);
  if (!bytesEqual(calculated, root)) {
    throw new AuditError("root_mismatch", `root at size ${size} does not match`, {
      expected: toHex(root),
      calculated: toHex(calculated),
      size,
    });
  }
}
