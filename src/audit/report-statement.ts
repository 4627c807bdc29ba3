/**
 * The gateway's signature over a report as a whole (report format v2). The checkpoint signs the
 * log's tree; it says nothing about which entries a report was issued with, so a holder could cut
 * entries from either end, rebuild the range proof from the leaves they keep, and present a
 * shorter report that still verifies. The report statement closes that: a C2SP signed note, by
 * the same key as the checkpoint, whose text is exactly
 *
 *   keyforge.dev/audit-report/v2
 *   <report id>
 *   <key id>
 *   <from_seq>
 *   <to_seq>
 *   <checkpoint origin>
 *   <checkpoint tree size>
 *   <checkpoint base64 root>
 *
 * A checkpoint body has exactly three lines and this text eight with a fixed first line, so
 * neither can be passed off as the other under the same key.
 */
import { toBase64 } from "../lib/bytes";
import { parseCanonicalBase64, HASH_SIZE } from "./encoding";
import { AuditError } from "./errors";
import type { Checkpoint } from "./checkpoint";
import { isValidKeyName, type NoteSigner, type NoteVerifier } from "./note-keys";
import { openNote, signNote, type OpenedNote } from "./signed-note";

export const REPORT_STATEMENT_HEADER = "keyforge.dev/audit-report/v2";

export interface ReportStatement {
  reportId: string;
  keyId: string;
  fromSeq: number;
  toSeq: number;
  checkpoint: Checkpoint;
}

const malformed = (why: string) => new AuditError("malformed_note", `report statement: ${why}`);
const SEQ = /^[1-9][0-9]{0,15}$/;

function checkToken(value: string, what: string): void {
  if (!isValidKeyName(value)) throw malformed(`${what} must be non-empty without spaces, '+' or control characters`);
}

export function formatReportStatement(s: ReportStatement): string {
  checkToken(s.reportId, "report id");
  checkToken(s.keyId, "key id");
  checkToken(s.checkpoint.origin, "origin");
  for (const seq of [s.fromSeq, s.toSeq, s.checkpoint.size]) {
    if (!Number.isSafeInteger(seq) || seq < 1) throw malformed("seqs and tree size must be positive safe integers");
  }
  if (s.checkpoint.rootHash.length !== HASH_SIZE) throw malformed("root hash must be 32 bytes");
  const lines = [REPORT_STATEMENT_HEADER, s.reportId, s.keyId, s.fromSeq, s.toSeq, s.checkpoint.origin, s.checkpoint.size, toBase64(s.checkpoint.rootHash)];
  return `${lines.join("\n")}\n`;
}

/** Strict: exactly the eight lines above, each in its one canonical spelling. */
export function parseReportStatement(text: string): ReportStatement {
  if (!text.endsWith("\n")) throw malformed("must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length !== 8 || lines[0] !== REPORT_STATEMENT_HEADER) throw malformed(`must be ${REPORT_STATEMENT_HEADER} and seven lines`);
  const [, reportId, keyId, from, to, origin, size, root] = lines as [string, string, string, string, string, string, string, string];
  checkToken(reportId, "report id");
  checkToken(keyId, "key id");
  checkToken(origin, "origin");
  if (![from, to, size].every((n) => SEQ.test(n))) throw malformed("seqs and tree size must be positive decimal integers");
  let rootHash: Uint8Array;
  try {
    rootHash = parseCanonicalBase64(root, "root hash");
  } catch {
    throw malformed("root hash is not canonical base64");
  }
  if (rootHash.length !== HASH_SIZE) throw malformed("root hash must be 32 bytes");
  return { reportId, keyId, fromSeq: Number(from), toSeq: Number(to), checkpoint: { origin, size: Number(size), rootHash } };
}

export function signReportStatement(statement: ReportStatement, signer: NoteSigner): Promise<string> {
  return signNote(formatReportStatement(statement), [signer]);
}

/** Verifies the note against the trusted verifiers, then parses its text. */
export async function openReportStatement(note: string, verifiers: readonly NoteVerifier[]): Promise<{ statement: ReportStatement; note: OpenedNote }> {
  const opened = await openNote(note, verifiers);
  return { statement: parseReportStatement(opened.text), note: opened };
}
