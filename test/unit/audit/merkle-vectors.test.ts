/// <reference types="vite/client" />
/**
 * transparency-dev/merkle's RFC 6962 proof vectors (test/vectors/merkle-rfc6962, Apache-2.0, vendored):
 * every happy path verifies, every `wantErr` case is rejected with an AuditError, and the
 * happy-path proofs are exactly what our generators (naive and store-backed) produce for the
 * same tree. Loaded through Vite because workerd tests cannot read the filesystem.
 */
import { describe, expect, it } from "vitest";
import { fromBase64, fromHex } from "../../../src/lib/bytes";
import { AuditError } from "../../../src/audit/errors";
import { consistencyProofFromLeafHashes, inclusionProofFromLeafHashes, leafHash, verifyConsistency, verifyInclusion } from "../../../src/audit/merkle";
import { appendLeaf, consistencyProof, inclusionProof } from "../../../src/audit/merkle-store";
import { MemoryNodeStore } from "./audit-fixtures";

interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const VECTORS = "../../vectors/merkle-rfc6962/testdata";
const inclusion = import.meta.glob<InclusionVector>("../../vectors/merkle-rfc6962/testdata/inclusion/**/*.json", {
  eager: true,
  import: "default",
});
const consistency = import.meta.glob<ConsistencyVector>("../../vectors/merkle-rfc6962/testdata/consistency/**/*.json", {
  eager: true,
  import: "default",
});

const short = (path: string) => path.slice(VECTORS.length + 1);
const b64 = (text: string) => fromBase64(text);
const proofOf = (proof: string[] | null) => (proof ?? []).map(b64);

// The tree the vectors were generated from (transparency-dev/merkle testonly).
const LEAF_DATA = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

async function knownLeaves(): Promise<Uint8Array[]> {
  return Promise.all(LEAF_DATA.map((hex) => leafHash(fromHex(hex))));
}

describe("RFC 6962 vectors", () => {
  it("loads every vector file (98 inclusion, 98 consistency, 184 of them wantErr)", () => {
    expect(Object.keys(inclusion)).toHaveLength(98);
    expect(Object.keys(consistency)).toHaveLength(98);
    const all = [...Object.values(inclusion), ...Object.values(consistency)];
    expect(all.filter((v) => v.wantErr)).toHaveLength(184);
  });

  it.each(Object.entries(inclusion).map(([path, v]) => [short(path), v] as const))("inclusion %s", async (_, v) => {
    const run = verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), proofOf(v.proof), b64(v.root));
    if (v.wantErr) await expect(run).rejects.toBeInstanceOf(AuditError);
    else await expect(run).resolves.toBeUndefined();
  });

  it.each(Object.entries(consistency).map(([path, v]) => [short(path), v] as const))("consistency %s", async (_, v) => {
    const run = verifyConsistency(v.size1, v.size2, proofOf(v.proof), b64(v.root1), b64(v.root2));
    if (v.wantErr) await expect(run).rejects.toBeInstanceOf(AuditError);
    else await expect(run).resolves.toBeUndefined();
  });
});

describe("our generators reproduce the happy-path proofs", () => {
  const happyInclusion = Object.entries(inclusion).filter(([path, v]) => !v.wantErr && /inclusion\/\d\//.test(path));
  const happyConsistency = Object.entries(consistency).filter(([path, v]) => !v.wantErr && /consistency\/\d\//.test(path));

  it("has happy paths to compare", () => {
    expect(happyInclusion.length).toBe(5);
    expect(happyConsistency.length).toBe(5);
  });

  it("inclusion proofs match, naive and store-backed", async () => {
    const leaves = await knownLeaves();
    const store = new MemoryNodeStore();
    for (const [i, leaf] of leaves.entries()) await appendLeaf(store, i, leaf);
    for (const [, v] of happyInclusion) {
      expect(leaves[v.leafIdx]).toEqual(b64(v.leafHash));
      const want = proofOf(v.proof);
      expect(await inclusionProofFromLeafHashes(leaves.slice(0, v.treeSize), v.leafIdx)).toEqual(want);
      expect(await inclusionProof(store, v.leafIdx, v.treeSize)).toEqual(want);
    }
  });

  it("consistency proofs match, naive and store-backed", async () => {
    const leaves = await knownLeaves();
    const store = new MemoryNodeStore();
    for (const [i, leaf] of leaves.entries()) await appendLeaf(store, i, leaf);
    for (const [, v] of happyConsistency) {
      const want = proofOf(v.proof);
      expect(await consistencyProofFromLeafHashes(leaves.slice(0, v.size2), v.size1)).toEqual(want);
      expect(await consistencyProof(store, v.size1, v.size2)).toEqual(want);
    }
  });
});
