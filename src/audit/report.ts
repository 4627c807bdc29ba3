/**
 * The shareable audit report: a self-contained JSON document that anyone can verify offline
 * against a published verifier key (report-verify.ts). Format, version 2:
 *
 *   {
 *     "version": 2,
 *     "report_id": "<id the gateway issued it under, rpt_…>",
 *     "key_id": "<virtual key id>",
 *     "origin": "<checkpoint origin, <prefix>/<key_id>>",
 *     "range": {"from_seq": a, "to_seq": b},                 // inclusive; a ≥ 1
 *     "entries": [{"entry": "<RFC 8785 JSON text>", "leaf_hash": "<hex>"}, …],   // seqs a..b in order
 *     "range_proof": {"left": ["<hex>", …], "right": ["<hex>", …]},
 *     "checkpoint": "<signed note: origin, tree size N, base64 root>",
 *     "previous": null | {"checkpoint": "<earlier signed note>", "consistency_proof": ["<hex>", …]},
 *     "verifier_key": "<name>+<hex id>+<base64 key>",
 *     "report_signature": "<signed note over (report id, key id, a, b, checkpoint): report-statement.ts>"
 *   }
 *
 * Entry seq s is Merkle leaf s - 1, leaf data = the entry text's UTF-8 bytes, so leaf_hash =
 * SHA-256(0x00 || bytes). The entry travels as the exact bytes that were hashed, not as a JSON
 * object: a verifier re-encodes what it parsed and refuses any text that is not already canonical
 * (a duplicated key, for one, which JSON.parse would silently resolve to its last value).
 * `range_proof` is one range proof (merkle-range.ts) for leaves [a - 1, b) in the checkpoint's
 * tree of N leaves: O(k + log N) hashes, and contiguity is proven by construction.
 * `report_signature`, by the checkpoint's key, fixes the range: a report cut at either end no
 * longer matches it. `previous` links an earlier checkpoint (e.g. from an earlier report) by an
 * RFC 6962 consistency proof, which is what exposes a log truncated or rewritten since then.
 * Hashes are lowercase hex; the chain HMACs are not included (they need the secret to check).
 *
 * Version 1 (before report signatures) had entry objects and no report_id / report_signature;
 * `legacyReportSchema` still reads it so a verifier can say exactly what it lacks.
 */
import * as z from "zod";
import { toHex } from "../lib/bytes";
import { auditEntrySchema, canonicalEntryBytes, type AuditEntry } from "./canonical-json";
import { parseCheckpoint } from "./checkpoint";
import { AuditError } from "./errors";
import { leafHash } from "./merkle";
import type { RangeProof } from "./merkle-range";
import type { NoteSigner } from "./note-keys";
import { signReportStatement } from "./report-statement";

const hashHex = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");
const MAX_PROOF_HASHES = 128;

const rangeSchema = z.strictObject({ from_seq: z.int().min(1), to_seq: z.int().min(1) });
const rangeProofSchema = z.strictObject({ left: z.array(hashHex).max(MAX_PROOF_HASHES), right: z.array(hashHex).max(MAX_PROOF_HASHES) });
const previousSchema = z.strictObject({ checkpoint: z.string().min(1).max(16_384), consistency_proof: z.array(hashHex).max(MAX_PROOF_HASHES) }).nullable();

export const auditReportSchema = z.strictObject({
  version: z.literal(2),
  report_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, '_' or '-'"),
  key_id: z.string().min(1).max(128),
  origin: z.string().min(1).max(512),
  range: rangeSchema,
  entries: z.array(z.strictObject({ entry: z.string().min(2).max(16_384), leaf_hash: hashHex })).min(1),
  range_proof: rangeProofSchema,
  checkpoint: z.string().min(1).max(16_384),
  previous: previousSchema,
  verifier_key: z.string().min(1).max(1024),
  report_signature: z.string().min(1).max(16_384),
});

/** Version 1: entries as JSON objects, no report id and no signature over the range. */
export const legacyReportSchema = z.strictObject({
  version: z.literal(1),
  key_id: z.string().min(1).max(128),
  origin: z.string().min(1).max(512),
  range: rangeSchema,
  entries: z.array(z.strictObject({ entry: auditEntrySchema, leaf_hash: hashHex })).min(1),
  range_proof: rangeProofSchema,
  checkpoint: z.string().min(1).max(16_384),
  previous: previousSchema,
  verifier_key: z.string().min(1).max(1024),
});

export type AuditReport = z.infer<typeof auditReportSchema>;
export type LegacyAuditReport = z.infer<typeof legacyReportSchema>;
/** What the KeyGuard builds; the Worker gives it an id and signs it (`signReport`). */
export type UnsignedAuditReport = Omit<AuditReport, "report_id" | "report_signature">;

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
export async function buildReport(input: BuildReportInput): Promise<UnsignedAuditReport> {
  checkContiguous(input.keyId, input.entries);
  const hex = (hashes: readonly Uint8Array[]) => hashes.map((h) => toHex(h));
  const entries = await Promise.all(
    input.entries.map(async (entry) => {
      const bytes = canonicalEntryBytes(entry);
      return { entry: new TextDecoder().decode(bytes), leaf_hash: toHex(await leafHash(bytes)) };
    }),
  );
  const previous = input.previous ? { checkpoint: input.previous.checkpoint, consistency_proof: hex(input.previous.consistencyProof) } : null;
  return auditReportSchema.omit({ report_id: true, report_signature: true }).parse({
    version: 2,
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

/**
 * Issues a built report under `reportId`: signs (report id, key id, range, checkpoint) with the
 * key that signed its checkpoint. `signer` must be that key.
 */
export async function signReport(report: UnsignedAuditReport, reportId: string, signer: NoteSigner): Promise<AuditReport> {
  if (signer.verifierKey !== report.verifier_key) throw new AuditError("invalid_input", "the report must be signed by the key that signed its checkpoint");
  const note = report.checkpoint;
  const checkpoint = parseCheckpoint(note.slice(0, note.indexOf("\n\n") + 1));
  const signature = await signReportStatement(
    { reportId, keyId: report.key_id, fromSeq: report.range.from_seq, toSeq: report.range.to_seq, checkpoint },
    signer,
  );
  const { version, ...rest } = report;
  return auditReportSchema.parse({ version, report_id: reportId, ...rest, report_signature: signature });
}
