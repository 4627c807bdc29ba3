/**
 * The one error type of the audit verification library. Like transparency-dev/merkle's
 * RootMismatchError, a failure carries its evidence (what was expected, what was calculated)
 * so a verification page can show *why* a check failed, not only that it did.
 */
export type AuditErrorCode =
  | "invalid_input" // a size, index, length or encoding outside the domain of the function
  | "non_canonical" // a value that is not the canonical JSON of an audit entry
  | "proof_size" // a proof with the wrong number of hashes for its sizes
  | "root_mismatch" // a recomputed Merkle root differs from the expected one
  | "chain_mismatch" // a recomputed chain hash differs from the stored one
  | "chain_order" // a seq gap, a reordered entry or an entry of another key
  | "malformed_key" // a signer or verifier key string that does not parse or hash to its id
  | "malformed_note" // a signed note that breaks the C2SP signed-note grammar
  | "invalid_signature" // a signature by a known key that does not verify
  | "unverified_note" // a note without any valid signature by a trusted key
  | "malformed_checkpoint" // a checkpoint body that breaks the tlog-checkpoint grammar
  | "checkpoint_regression"; // a checkpoint smaller than, or forking from, an earlier one

/** What the verifier saw: hex or decimal strings so the evidence renders anywhere. */
export interface AuditEvidence {
  expected?: string;
  calculated?: string;
  seq?: number;
  size?: number;
}

export class AuditError extends Error {
  override readonly name = "AuditError";
  readonly code: AuditErrorCode;
  readonly evidence: AuditEvidence;

  constructor(code: AuditErrorCode, message: string, evidence: AuditEvidence = {}) {
    super(message);
    this.code = code;
    this.evidence = evidence;
  }
}

/** A one-line description of any thrown value, for check details and CLI output. */
export function describeError(error: unknown): string {
  if (error instanceof AuditError) {
    const { expected, calculated } = error.evidence;
    if (expected !== undefined && calculated !== undefined) {
      return `${error.message} (expected ${expected}, calculated ${calculated})`;
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
