/**
 * The shareable audit report: a self-contained JSON document that anyone can verify offline
 * against a published verifier key (report-verify.ts). Format, version 1:
 *
 *   {
 *     "version": 1,
 *     "key_id": "<virtual key id>",
 *     "origin": "<checkpoint origin, <prefix>/<key_id>>",
 *     "range": {"from_seq": a, "to_seq": b},                 // inclusive; a ≥ 1
 *     "entries": [{"entry": {<AuditEntry>}, "leaf_hash": "<hex>"}, …],   // seqs a..b in order
 *     "range_proof": {"left": ["<hex>", …], "right": ["<hex>", …]},
 *     "checkpoint": "<signed note: origin, tree size N, base64 root>",
 *     "previous": null | {"checkpoint": "<earlier signed note>", "consistency_proof": ["<hex>", …]},
 *     "verifier_key": "<name>+<hex id>+<base64 key>"
 *   }
 *
 * Entry seq s is Merkle leaf s - 1, leaf data = RFC 8785 bytes of the entry, so leaf_hash =
 * SHA-256(0x00 || canonical JSON). `range_proof` is one range proof (merkle-range.ts) for
 * leaves [a - 1, b) in the checkpoint's tree of N leaves, rather than one inclusion proof per
 * entry: O(k + log N) hashes instead of O(k log N), and contiguity is proven by construction.
 * `previous` links an earlier checkpoint (e.g. from an earlier report) by an RFC 6962
 * consistency proof, which is what exposes a log truncated or rewritten since then.
 * Hashes are lowercase hex; the chain HMACs are not included (they need the secret to check).
 */
import { z } from "zod";
import { toHex } from "../lib/bytes";
import { auditEntrySchema, canonicalEntryBytes, type AuditEntry } from "./canonical-json";
import { AuditError } from "./errors";
import { leafHash } from "./merkle";
import type { RangeProof } from "./merkle-range";

const hashHex = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");
const MAX_PROOF_HASHES = 128;

export const auditReportSchema = z.strictObject({
  version: z.literal(1),
  key_id: z.string().min(1).max(128),
  origin: z.string().min(1).max(512),
  range: z.strictObject({ from_seq: z.int().min(1), to_seq: z.int().min(1) }),
  entries: z.array(z.strictObject({ entry: auditEntrySchema, leaf_hash: hashHex })).min(1),
  range_proof: z.strictObject({
    left: z.array(hashHex).max(MAX_PROOF_HASHES),
    right: z.array(hashHex).max(MAX_PROOF_HASHES),
  }),
  checkpoint: z.string().min(1).max(16_384),
  previous: z.strictObject({ checkpoint: z.string().min(1).max(16_384), consistency_proof: z.array(hashHex).max(MAX_PROOF_HASHES) }).nullable(),
  verifier_key: z.string().min(1).max(1024),
});

export type AuditReport = z.infer<typeof auditReportSchema>;

/** The Merkle leaf hash of an audit entry: SHA-256(0x00 || RFC 8785 JSON). */
export async function entryLeafHash(entry: AuditEntry): Promise<Uint8Array> {
  return leafHash(canonicalEntryBytes(entry));
}

export interface BuildReportInput {
  keyId: string;
  origin: string;
  /** Contiguous entries of this key, ascending by seq. */
  entries: readonly AuditEntry[];
  /** Range proof for leaves [first seq - 1, last seq) in the checkpoint's tree. */
  rangeProof: RangeProof;
  /** Signed checkpoint note. */
  checkpoint: string;
  verifierKey: string;
  previous?: { checkpoint: string; consistencyProof: readonly Uint8Array[] } | null;
}

function checkContiguous(keyId: string, entries: readonly AuditEntry[]): void {
  const first = entries[0];
  if (first === undefined) throw new AuditError("invalid_input", "a report needs at least one entry");
  entries.forEach((entry, i) => {
    if (entry.key_id !== keyId || entry.seq !== first.seq + i) {
      throw new AuditError("chain_order", `entry ${i} is not seq ${first.seq + i} of key ${keyId}`);
    }
  });
}

/** Assembles a report from what the KeyGuard DO provides. Pure; the proofs are not re-checked. */
export async function buildReport(input: BuildReportInput): Promise<AuditReport> {
  checkContiguous(input.keyId, input.entries);
  const hex = (hashes: readonly Uint8Array[]) => hashes.map((h) => toHex(h));
  const entries = await Promise.all(input.entries.map(async (entry) => ({ entry, leaf_hash: toHex(await entryLeafHash(entry)) })));
  const previous = input.previous ? { checkpoint: input.previous.checkpoint, consistency_proof: hex(input.previous.consistencyProof) } : null;
  return auditReportSchema.parse({
    version: 1,
    key_id: input.keyId,
    origin: input.origin,
    range: { from_seq: input.entries[0]?.seq, to_seq: input.entries.at(-1)?.seq },
    entries,
    range_proof: { left: hex(input.rangeProof.left), right: hex(input.rangeProof.right) },
    checkpoint: input.checkpoint,
    previous,
    verifier_key: input.verifierKey,
  });
}
