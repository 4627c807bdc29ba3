/**
 * The per-key HMAC chain: the documented encoding (checked against an independent
 * re-implementation and pinned values), verification, and property-based tampering: any edit,
 * insertion, deletion, reordering or cross-key move is caught at the first bad seq. Cutting off
 * the tail is NOT caught by the chain alone; a checkpoint signed earlier catches it.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { concatBytes, toHex, utf8 } from "../../../src/lib/bytes";
import { canonicalEntryBytes, type AuditEntry } from "../../../src/audit/canonical-json";
import { chainEntry, deriveChainKey, frame, nextChainHash, verifyChain, type ChainRecord } from "../../../src/audit/chain";
import { assertCheckpointGrowth, verifyCheckpointExtends } from "../../../src/audit/checkpoint";
import { consistencyProof } from "../../../src/audit/merkle-store";
import { verifyReport } from "../../../src/audit/report-verify";
import { appendToLog, buildLog, checkpointAt, makeEntry, MASTER_SECRET, reportFor, signedCheckpointAt, testSigner, type TestLog } from "./audit-fixtures";

/** The encoding of chain.ts, written again from its doc comment with raw Web Crypto calls. */
async function specHashes(secret: string, keyId: string, entries: AuditEntry[]): Promise<string[]> {
  const hkdf = await crypto.subtle.importKey("raw", utf8(secret), "HKDF", false, ["deriveBits"]);
  const k = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: utf8("keyforge-audit-chain/v1"), info: utf8(keyId) }, hkdf, 256);
  const mac = await crypto.subtle.importKey("raw", k, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const len = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const field = (bytes: Uint8Array) => concatBytes(len(bytes.length), bytes);
  const id = utf8(keyId);
  let h = new Uint8Array(await crypto.subtle.sign("HMAC", mac, concatBytes(utf8("keyforge-genesis/v1\0"), field(id))));
  const out = [toHex(h)];
  for (const entry of entries) {
    const message = concatBytes(utf8("keyforge-chain-entry/v1\0"), field(h), field(canonicalEntryBytes(entry)));
    h = new Uint8Array(await crypto.subtle.sign("HMAC", mac, message));
    out.push(toHex(h));
  }
  return out;
}

describe("chain encoding", () => {
  it("frames as tag, 0x00, then u32be-length-prefixed fields", () => {
    expect(toHex(frame("t/v1", new Uint8Array([1, 2]), new Uint8Array([])))).toBe("742f76310000000002010200000000");
    expect(() => frame("bad tag", new Uint8Array())).toThrow();
  });

  it("matches an independent implementation of the documented encoding", async () => {
    const log = await buildLog("kA", 5);
    expect([log.genesis, ...log.records.map((r) => r.hash)]).toEqual(await specHashes(MASTER_SECRET, "kA", log.entries));
  });

  it("is pinned: h_0 and h_1 of a fixed key never drift", async () => {
    const log = await buildLog("0123456789ABCDEF", 1);
    expect(log.genesis).toBe(GOLDEN_H0);
    expect(log.records[0]?.hash).toBe(GOLDEN_H1);
  });

  it("derives unrelated chains per key and refuses weak secrets", async () => {
    const [a, b] = await Promise.all([buildLog("kA", 1), buildLog("kB", 1)]);
    expect(a.genesis).not.toBe(b.genesis);
    await expect(deriveChainKey("short", "kA")).rejects.toMatchObject({ code: "invalid_input" });
    await expect(deriveChainKey(MASTER_SECRET, "")).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("chainEntry is nextChainHash over the canonical bytes", async () => {
    const log = await buildLog("kA", 0);
    const entry = makeEntry("kA", 1);
    const { canonical, hash } = await chainEntry(log.chainKey, log.genesis, entry);
    expect(canonical).toBe(new TextDecoder().decode(canonicalEntryBytes(entry)));
    expect(hash).toBe(await nextChainHash(log.chainKey, log.genesis, canonicalEntryBytes(entry)));
  });
});

// Computed by a separate Node script from the spec above (hand-written canonical JSON of
// makeEntry("0123456789ABCDEF", 1)), so they also pin canonicalisation.
const GOLDEN_H0 = "909222dbff963363fdfa78f334663012040183ac21ca3b9518956de2cdb61d3b";
const GOLDEN_H1 = "67cd81c1d5c1afe5cb587ccefabf200fc4ba945ee9aeb7320b88d08a419d44d5";

describe("verifyChain", () => {
  let log: TestLog;
  let other: TestLog;
  beforeAll(async () => {
    [log, other] = await Promise.all([buildLog("keyA", 16), buildLog("keyB", 16)]);
  });

  it("accepts a whole chain given as text, bytes or objects, and an empty one", async () => {
    const asText = await verifyChain(log.chainKey, "keyA", log.records);
    expect(asText).toEqual({ valid: true, entries: 16, head: log.records[15]?.hash, first_invalid_seq: null });
    const asObjects = log.records.map((r, i) => ({ entry: log.entries[i] as AuditEntry, hash: r.hash }));
    expect((await verifyChain(log.chainKey, "keyA", asObjects)).valid).toBe(true);
    const asBytes = log.records.map((r) => ({ entry: utf8(r.entry as string), hash: r.hash }));
    expect((await verifyChain(log.chainKey, "keyA", asBytes)).valid).toBe(true);
    expect(await verifyChain(log.chainKey, "keyA", [])).toEqual({ valid: true, entries: 0, head: log.genesis, first_invalid_seq: null });
  });

  it("verifies a tail from an anchor", async () => {
    const anchor = { seq: 10, hash: log.records[9]?.hash as string };
    const result = await verifyChain(log.chainKey, "keyA", log.records.slice(10), anchor);
    expect(result).toMatchObject({ valid: true, entries: 6, head: log.records[15]?.hash });
  });

  it("never reveals the recomputed MAC of a tampered entry", async () => {
    const records = log.records.slice(0, 3).map((r, i) => (i === 1 ? { ...r, entry: tamper(r, "cost_micros", 1) } : r));
    const result = await verifyChain(log.chainKey, "keyA", records);
    expect(result).toMatchObject({ valid: false, first_invalid_seq: 2, error: { code: "chain_mismatch", expected: log.records[1]?.hash } });
    expect(result.error?.calculated).toBeUndefined();
  });

  it("names the first bad seq for any edit, insertion, deletion, reorder or cross-key move", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 16 }), mutationArb, async (n, mutation) => {
        const mutated = applyMutation(log.records.slice(0, n), other.records.slice(0, n), mutation, n);
        if (mutated === undefined) return;
        const { records, firstBad } = mutated;
        const result = await verifyChain(log.chainKey, "keyA", records);
        expect(result).toMatchObject({ valid: false, first_invalid_seq: firstBad, entries: firstBad - 1 });
        expect(result.head).toBe(firstBad === 1 ? log.genesis : log.records[firstBad - 2]?.hash);
      }),
      { numRuns: 300 },
    );
  });
});

describe("truncation: the limit of a bare chain, closed by checkpoints", () => {
  it("a cut-off tail still verifies as a chain", async () => {
    const log = await buildLog("keyT", 12);
    const result = await verifyChain(log.chainKey, "keyT", log.records.slice(0, 8));
    expect(result).toMatchObject({ valid: true, entries: 8 });
  });

  it("but contradicts a checkpoint signed before the cut", async () => {
    const log = await buildLog("keyT", 12);
    const signedBefore = await checkpointAt(log, 12);
    const truncated = await buildLog("keyT", 8);
    const afterCut = await checkpointAt(truncated, 8);
    expect(() => assertCheckpointGrowth(signedBefore, afterCut)).toThrow(expect.objectContaining({ code: "checkpoint_regression" }));
    // Truncate and regrow with other entries: same or larger size, but a fork.
    const forked = truncated;
    for (let seq = 9; seq <= 14; seq++) await appendToLog(forked, makeEntry("keyT", seq, { cost_micros: 1 }));
    expect((await verifyChain(forked.chainKey, "keyT", forked.records)).valid).toBe(true);
    const forkedCheckpoint = await checkpointAt(forked, 14);
    const proof = await consistencyProof(forked.store, 12, 14);
    await expect(verifyCheckpointExtends(signedBefore, forkedCheckpoint, proof)).rejects.toMatchObject({ code: "root_mismatch" });
    const sameSize = await checkpointAt(forked, 12);
    expect(() => assertCheckpointGrowth(signedBefore, sameSize)).toThrow(expect.objectContaining({ code: "checkpoint_regression" }));
  });

  it("and a report of the forked log fails against the checkpoint the auditor kept", async () => {
    const log = await buildLog("keyT", 12);
    const kept = await signedCheckpointAt(log, 12);
    const forked = await buildLog("keyT", 8);
    for (let seq = 9; seq <= 14; seq++) await appendToLog(forked, makeEntry("keyT", seq, { cost_micros: 1 }));
    const key = [(await testSigner()).verifierKey];
    const withoutLink = await reportFor(forked, { from: 1, to: 14 });
    const withLink = { ...(await reportFor(forked, { from: 1, to: 14, previousSize: 12 })) };
    withLink.previous = { checkpoint: kept, consistency_proof: withLink.previous?.consistency_proof ?? [] };
    expect((await verifyReport(withoutLink, key)).ok).toBe(true); // alone, a fork looks fine…
    for (const report of [withoutLink, withLink]) {
      const result = await verifyReport(report, key, { previousCheckpoint: kept }); // …not to someone who kept a checkpoint
      expect(result.ok).toBe(false);
      expect(result.checks.find((c) => c.name === "consistency")?.ok).toBe(false);
    }
  });
});

// ---- mutations ------------------------------------------------------------------------------

const FIELDS = [
  "v",
  "key_id",
  "seq",
  "ts",
  "request_id",
  "model",
  "provider",
  "status",
  "prompt_tokens",
  "completion_tokens",
  "cost_micros",
  "latency_ms",
  "stream",
] as const;

type Mutation =
  | { kind: "edit"; at: number; field: (typeof FIELDS)[number]; salt: number }
  | { kind: "hash"; at: number; digit: number }
  | { kind: "insert"; at: number; replay: boolean }
  | { kind: "delete"; at: number }
  | { kind: "swap"; at: number; with: number }
  | { kind: "move"; at: number; relabel: boolean }
  | { kind: "respell"; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("edit" as const), at: fc.nat(), field: fc.constantFrom(...FIELDS), salt: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ kind: fc.constant("hash" as const), at: fc.nat(), digit: fc.nat(63) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), replay: fc.boolean() }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant("move" as const), at: fc.nat(), relabel: fc.boolean() }),
  fc.record({ kind: fc.constant("respell" as const), at: fc.nat() }),
);

function entryOf(record: ChainRecord): Record<string, unknown> {
  return JSON.parse(record.entry as string) as Record<string, unknown>;
}

/** The attacker rewrites one field cleanly (canonical JSON) but cannot recompute the MAC. */
function tamper(record: ChainRecord, field: (typeof FIELDS)[number], salt: number): string {
  const entry = entryOf(record);
  const old = entry[field];
  entry[field] = typeof old === "number" ? old + salt : typeof old === "boolean" ? !old : `${String(old)}~${salt}`;
  return JSON.stringify(entry); // still canonical: JSON.parse kept the sorted key order
}

/** Applies a mutation; returns the records and the seq that must be named, or undefined when not applicable. */
function applyMutation(records: ChainRecord[], otherKey: ChainRecord[], m: Mutation, n: number) {
  const at = m.at % n;
  const copy = [...records];
  switch (m.kind) {
    case "edit":
      copy[at] = { ...copy[at]!, entry: tamper(copy[at]!, m.field, m.salt) };
      return { records: copy, firstBad: at + 1 };
    case "hash": {
      const hash = copy[at]!.hash;
      const digit = ((parseInt(hash[m.digit]!, 16) + 1) % 16).toString(16);
      copy[at] = { ...copy[at]!, hash: hash.slice(0, m.digit) + digit + hash.slice(m.digit + 1) };
      return { records: copy, firstBad: at + 1 };
    }
    case "insert": {
      const pos = m.at % (n + 1);
      const forged = m.replay && pos > 0 ? copy[pos - 1]! : { entry: makeEntry("keyA", pos + 1, { cost_micros: 0 }), hash: "0".repeat(64) };
      copy.splice(pos, 0, forged);
      return { records: copy, firstBad: pos + 1 };
    }
    case "delete":
      if (at === n - 1) return undefined; // removing the last entry is truncation, tested separately
      copy.splice(at, 1);
      return { records: copy, firstBad: at + 1 };
    case "swap": {
      const other = m.with % n;
      if (other === at) return undefined;
      [copy[at], copy[other]] = [copy[other]!, copy[at]!];
      return { records: copy, firstBad: Math.min(at, other) + 1 };
    }
    case "move": {
      const foreign = otherKey[at]!;
      copy[at] = m.relabel ? { ...foreign, entry: JSON.stringify({ ...entryOf(foreign), key_id: "keyA" }) } : foreign;
      return { records: copy, firstBad: at + 1 };
    }
    case "respell":
      copy[at] = { ...copy[at]!, entry: JSON.stringify(entryOf(copy[at]!), null, 2) };
      return { records: copy, firstBad: at + 1 };
  }
}
