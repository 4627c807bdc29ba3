/**
 * RFC 6962 tree: known roots, and the store-backed incremental tree (what the KeyGuard DO uses)
 * against the literal RFC definitions over random sizes, including proof verification, range
 * proofs and the O(log n) store-read bound.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex, utf8 } from "../../../src/lib/bytes";
import { AuditError } from "../../../src/audit/errors";
import {
  consistencyProofFromLeafHashes,
  emptyRoot,
  inclusionProofFromLeafHashes,
  leafHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "../../../src/audit/merkle";
import { rangeProof, rangeProofFromLeafHashes, rootFromRangeProof, verifyRange } from "../../../src/audit/merkle-range";
import { appendLeaf, consistencyProof, inclusionProof, nodesForAppend, perfectSubtrees, rootAt } from "../../../src/audit/merkle-store";
import { MemoryNodeStore } from "./audit-fixtures";

// transparency-dev/merkle's reference tree and its roots for sizes 1..8.
const LEAF_DATA = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const BIG = 300;
let leaves: Uint8Array[] = [];
let store: MemoryNodeStore;

beforeAll(async () => {
  leaves = await Promise.all(Array.from({ length: BIG }, (_, i) => leafHash(utf8(`leaf ${i}`))));
  store = new MemoryNodeStore();
  for (const [i, leaf] of leaves.entries()) expect(await appendLeaf(store, i, leaf)).toBe(i + 1);
});

/** A tree size in [1, BIG] and a second number below or equal to it. */
const sizeAndBelow = fc.integer({ min: 1, max: BIG }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));

describe("RFC 6962 hashing", () => {
  it("matches the reference roots for sizes 1..8, naive and store-backed", async () => {
    const known = await Promise.all(LEAF_DATA.map((hex) => leafHash(fromHex(hex))));
    const s = new MemoryNodeStore();
    for (const [i, leaf] of known.entries()) await appendLeaf(s, i, leaf);
    for (let size = 1; size <= 8; size++) {
      expect(toHex(await rootFromLeafHashes(known.slice(0, size)))).toBe(ROOTS[size - 1]);
      expect(toHex(await rootAt(s, size))).toBe(ROOTS[size - 1]);
    }
  });

  it("has SHA-256('') as the empty root", async () => {
    const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    expect(toHex(await emptyRoot())).toBe(empty);
    expect(toHex(await rootAt(new MemoryNodeStore(), 0))).toBe(empty);
  });

  it("decomposes ranges into aligned perfect subtrees", () => {
    expect(perfectSubtrees(0, 13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(perfectSubtrees(3, 13)).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(perfectSubtrees(5, 5)).toEqual([]);
  });
});

describe("store-backed tree equals the RFC 6962 definitions", () => {
  it("appendLeaf from scratch gives the naive root at every size", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 16 }), { minLength: 1, maxLength: 40 }), async (data) => {
        const hashes = await Promise.all(data.map((d) => leafHash(d)));
        const s = new MemoryNodeStore();
        for (const [i, h] of hashes.entries()) {
          await appendLeaf(s, i, h);
          expect(await rootAt(s, i + 1)).toEqual(await rootFromLeafHashes(hashes.slice(0, i + 1)));
        }
      }),
      { numRuns: 25 },
    );
  });

  it("rootAt any historical size", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: BIG }), async (size) => {
        expect(await rootAt(store, size)).toEqual(await rootFromLeafHashes(leaves.slice(0, size)));
      }),
      { numRuns: 40 },
    );
  });

  it("inclusion proofs equal PATH(m, D[n]) and verify", async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndBelow, async ([size, index]) => {
        const proof = await inclusionProof(store, index, size);
        const tree = leaves.slice(0, size);
        expect(proof).toEqual(await inclusionProofFromLeafHashes(tree, index));
        await verifyInclusion(index, size, leaves[index] as Uint8Array, proof, await rootFromLeafHashes(tree));
      }),
      { numRuns: 60 },
    );
  });

  it("consistency proofs equal PROOF(m, D[n]) and verify", async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndBelow, async ([size2, below]) => {
        const size1 = below + 1;
        const proof = await consistencyProof(store, size1, size2);
        expect(proof).toEqual(await consistencyProofFromLeafHashes(leaves.slice(0, size2), size1));
        await verifyConsistency(size1, size2, proof, await rootAt(store, size1), await rootAt(store, size2));
      }),
      { numRuns: 60 },
    );
  });

  it("rejects a consistency proof against another tree's old root", async () => {
    const other = await leafHash(utf8("forked"));
    const forked = [...leaves.slice(0, 9), other, ...leaves.slice(10, 20)];
    const proof = await consistencyProofFromLeafHashes(forked, 12);
    await expect(verifyConsistency(12, 20, proof, await rootAt(store, 12), await rootFromLeafHashes(forked))).rejects.toMatchObject({ code: "root_mismatch" });
  });

  it("reads O(log n) nodes per operation", async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndBelow, async ([size, index]) => {
        const bound = 3 * Math.ceil(Math.log2(size + 1)) + 3;
        const measure = async (op: () => Promise<unknown>) => {
          store.reads = 0;
          await op();
          return store.reads;
        };
        expect(await measure(() => rootAt(store, size))).toBeLessThanOrEqual(bound);
        expect(await measure(() => inclusionProof(store, index, size))).toBeLessThanOrEqual(bound);
        expect(await measure(() => consistencyProof(store, index + 1, size))).toBeLessThanOrEqual(bound);
        expect(await measure(() => rangeProof(store, index, size, size))).toBeLessThanOrEqual(bound);
        expect(await measure(() => nodesForAppend(store, BIG, leaves[0] as Uint8Array))).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 40 },
    );
  });

  it("refuses out-of-range requests with AuditError", async () => {
    await expect(inclusionProof(store, 5, 5)).rejects.toBeInstanceOf(AuditError);
    await expect(consistencyProof(store, 0, 5)).rejects.toBeInstanceOf(AuditError);
    await expect(consistencyProof(store, 6, 5)).rejects.toBeInstanceOf(AuditError);
    await expect(rootAt(store, BIG + 1)).rejects.toMatchObject({ code: "invalid_input" });
    await expect(appendLeaf(new MemoryNodeStore(), 0, new Uint8Array(31))).rejects.toBeInstanceOf(AuditError);
  });
});

describe("range proofs", () => {
  /** [begin, end) within [0, size]. */
  const rangeArb = fc
    .integer({ min: 1, max: 120 })
    .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })))
    .chain(([size, begin]) => fc.tuple(fc.constant(size), fc.constant(begin), fc.integer({ min: begin + 1, max: size })));

  it("store proofs equal the naive ones and rebuild the root", async () => {
    await fc.assert(
      fc.asyncProperty(rangeArb, async ([size, begin, end]) => {
        const proof = await rangeProof(store, begin, end, size);
        expect(proof).toEqual(await rangeProofFromLeafHashes(leaves.slice(0, size), begin, end));
        const root = await rootFromRangeProof(begin, end, size, leaves.slice(begin, end), proof);
        expect(root).toEqual(await rootFromLeafHashes(leaves.slice(0, size)));
      }),
      { numRuns: 60 },
    );
  });

  it("fails when a leaf is dropped, duplicated, swapped or replaced, or a proof hash changes", async () => {
    await fc.assert(
      fc.asyncProperty(rangeArb, fc.nat(), fc.nat(), async ([size, begin, end], a, b) => {
        const root = await rootAt(store, size);
        const proof = await rangeProof(store, begin, end, size);
        const range = leaves.slice(begin, end);
        const i = a % range.length;
        const j = b % range.length;
        const variants: Array<[Uint8Array[], typeof proof]> = [
          [range.filter((_, k) => k !== i), proof],
          [[...range.slice(0, i + 1), range[i] as Uint8Array, ...range.slice(i + 1)], proof],
          [range.map((leaf, k) => (k === i ? (leaves[(begin + i + 1) % BIG] as Uint8Array) : leaf)), proof],
        ];
        if (range[i] !== range[j]) {
          variants.push([range.map((leaf, k) => (k === i ? range[j] : k === j ? range[i] : leaf) as Uint8Array), proof]);
        }
        const flipped = (hashes: Uint8Array[]) => hashes.map((h, k) => (k === 0 ? h.map((x, n) => (n === 0 ? x ^ 1 : x)) : h));
        if (proof.left.length > 0) variants.push([range, { ...proof, left: flipped(proof.left) }]);
        if (proof.right.length > 0) variants.push([range, { ...proof, right: flipped(proof.right) }]);
        for (const [badLeaves, badProof] of variants) {
          await expect(verifyRange(begin, end, size, badLeaves, badProof, root)).rejects.toBeInstanceOf(AuditError);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("has exactly one valid proof shape: extra or missing hashes are proof_size errors", async () => {
    const proof = await rangeProof(store, 5, 9, 23);
    const range = leaves.slice(5, 9);
    const root = await rootAt(store, 23);
    await verifyRange(5, 9, 23, range, proof, root);
    const extra = { ...proof, right: [...proof.right, leaves[0] as Uint8Array] };
    const missing = { ...proof, left: proof.left.slice(1) };
    await expect(verifyRange(5, 9, 23, range, extra, root)).rejects.toMatchObject({ code: "proof_size" });
    await expect(verifyRange(5, 9, 23, range, missing, root)).rejects.toMatchObject({ code: "proof_size" });
    await expect(verifyRange(5, 9, 24, range, proof, root)).rejects.toBeInstanceOf(AuditError);
    await expect(verifyRange(5, 5, 23, [], proof, root)).rejects.toMatchObject({ code: "invalid_input" });
  });
});
