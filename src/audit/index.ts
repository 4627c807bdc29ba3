/**
 * Audit verification library: pure, Web Crypto only, the same code in the Worker, the KeyGuard
 * DO, the public report page and the keyforge-verify CLI. See README.md in this folder.
 */
export { AuditError, describeError, type AuditErrorCode, type AuditEvidence } from "./errors";
export {
  adminEntrySchema,
  auditEntrySchema,
  canonicalEntryBytes,
  canonicalJson,
  isAdminEntry,
  parseCanonicalEntry,
  type AdminEntry,
  type AuditEntry,
} from "./canonical-json";
export { chainEntry, deriveChainKey, genesisHash, nextChainHash, verifyChain, type ChainRecord, type ChainVerification } from "./chain";
export {
  consistencyProofFromLeafHashes,
  emptyRoot,
  inclusionProofFromLeafHashes,
  leafHash,
  nodeHash,
  rootFromInclusionProof,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "./merkle";
export { appendLeaf, consistencyProof, inclusionProof, nodesForAppend, rootAt, type MerkleNode, type MerkleNodeStore } from "./merkle-store";
export { rangeProof, rangeProofFromLeafHashes, rootFromRangeProof, verifyRange, type RangeProof } from "./merkle-range";
export { generateNoteKeys, noteKeysFromSeed, parseSignerKey, parseVerifierKey, type NoteSigner, type NoteVerifier } from "./note-keys";
export { openNote, signNote, type NoteSignature, type OpenedNote } from "./signed-note";
export {
  assertCheckpointGrowth,
  checkpointOrigin,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  verifyCheckpointExtends,
  type Checkpoint,
} from "./checkpoint";
export {
  auditReportSchema,
  buildReport,
  entryLeafHash,
  legacyReportSchema,
  signReport,
  type AuditReport,
  type BuildReportInput,
  type LegacyAuditReport,
  type UnsignedAuditReport,
} from "./report";
export { formatReportStatement, openReportStatement, parseReportStatement, signReportStatement, type ReportStatement } from "./report-statement";
export { verifyReport, verifyReportText, type ReportCheck, type ReportVerification, type VerifyReportOptions } from "./report-verify";
export { duplicateKey, parseStrictJson } from "./strict-json";
