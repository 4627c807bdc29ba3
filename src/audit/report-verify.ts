/**
 * Verification of a shareable report (report.ts) as a checklist a page or a CLI can render line
 * by line. Pure: the trusted verifier keys are passed in. Order: schema → trust material →
 * checkpoint signature → checkpoint body → report signature → range → each entry → range proof →
 * consistency. A check that cannot run because an earlier one failed is left out; `ok` is true
 * only when every listed check passed.
 */
import { fromHex, toBase64, toHex, utf8 } from "../lib/bytes";
import { auditEntrySchema, canonicalEntryBytes, isAdminEntry } from "./canonical-json";
import { bytesEqual } from "./encoding";
import { AuditError, describeError } from "./errors";
import { leafHash } from "./merkle";
import { verifyRange } from "./merkle-range";
import { keyIdHex, parseVerifierKey, type NoteVerifier } from "./note-keys";
import { openCheckpoint, verifyCheckpointExtends, type Checkpoint } from "./checkpoint";
import { auditReportSchema, legacyReportSchema } from "./report";
import { openReportStatement } from "./report-statement";
import { parseStrictJson } from "./strict-json";

export interface ReportCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ReportVerification {
  ok: boolean;
  checks: ReportCheck[];
}

export interface VerifyReportOptions {
  /** A signed checkpoint the verifier already holds: the report must prove it extends it. */
  previousCheckpoint?: string;
  /** The id the report was fetched under (the public page): the signed report id must be this one. */
  reportId?: string;
  /**
   * Accept a version 1 report, whose range the gateway did not sign: its entries are checked, but
   * entries cut from either end cannot be detected. Off by default.
   */
  allowUnsignedRange?: boolean;
}

/** Both versions, in one shape: entries as the exact text that was hashed. */
interface Report {
  version: 1 | 2;
  reportId: string | null;
  keyId: string;
  origin: string;
  range: { from_seq: number; to_seq: number };
  entries: Array<{ text: string; leafHash: string }>;
  rangeProof: { left: string[]; right: string[] };
  checkpoint: string;
  previous: { checkpoint: string; consistency_proof: string[] } | null;
  verifierKey: string;
  signature: string | null;
}

type Checks = ReportCheck[];

/** Runs one check, records its line, and returns its value (undefined when it failed). */
async function check<T>(checks: Checks, name: string, run: () => Promise<[T, string]>): Promise<T | undefined> {
  try {
    const [value, detail] = await run();
    checks.push({ name, ok: true, detail });
    return value;
  } catch (error) {
    checks.push({ name, ok: false, detail: describeError(error) });
    return undefined;
  }
}

const keyLabel = (v: { name: string; keyId: number }) => `${v.name}+${keyIdHex(v.keyId)}`;
const fail = (message: string, evidence = {}) => new AuditError("invalid_input", message, evidence);
const decoder = new TextDecoder();

function checkSchema(input: unknown, checks: Checks): Report | undefined {
  const parsed = auditReportSchema.safeParse(input);
  if (parsed.success) {
    const r = parsed.data;
    checks.push({ name: "schema", ok: true, detail: `report v2 ${r.report_id} for key ${r.key_id}, ${r.entries.length} entries` });
    return {
      version: 2,
      reportId: r.report_id,
      keyId: r.key_id,
      origin: r.origin,
      range: r.range,
      entries: r.entries.map((e) => ({ text: e.entry, leafHash: e.leaf_hash })),
      rangeProof: r.range_proof,
      checkpoint: r.checkpoint,
      previous: r.previous,
      verifierKey: r.verifier_key,
      signature: r.report_signature,
    };
  }
  const legacy = legacyReportSchema.safeParse(input);
  if (legacy.success) {
    const r = legacy.data;
    checks.push({ name: "schema", ok: true, detail: `report v1 for key ${r.key_id}, ${r.entries.length} entries` });
    return {
      version: 1,
      reportId: null,
      keyId: r.key_id,
      origin: r.origin,
      range: r.range,
      // v1 carried objects: their canonical text is what the log hashed.
      entries: r.entries.map((e) => ({ text: decoder.decode(canonicalEntryBytes(e.entry)), leafHash: e.leaf_hash })),
      rangeProof: r.range_proof,
      checkpoint: r.checkpoint,
      previous: r.previous,
      verifierKey: r.verifier_key,
      signature: null,
    };
  }
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join(".") : "report";
  checks.push({ name: "schema", ok: false, detail: `${where}: ${issue?.message ?? "invalid"}` });
  return undefined;
}

async function trustedVerifiers(keys: readonly string[]): Promise<[NoteVerifier[], string]> {
  if (keys.length === 0) throw fail("no trusted verifier key given");
  const verifiers = await Promise.all(keys.map((key) => parseVerifierKey(key)));
  return [verifiers, verifiers.map(keyLabel).join(", ")];
}

/** The report names its signing key; that key must be trusted and must have signed the checkpoint. */
async function checkpointSignature(report: Report, verifiers: NoteVerifier[], trustedKeys: readonly string[]): Promise<[Checkpoint, string]> {
  const reportKey = await parseVerifierKey(report.verifierKey);
  // Compared as whole key strings: a key of the same name (even a ground 32-bit id collision) is another key.
  if (!trustedKeys.includes(report.verifierKey)) {
    throw new AuditError("unverified_note", `the report names the key ${keyLabel(reportKey)}, which is not one of the trusted keys`);
  }
  const { checkpoint, note } = await openCheckpoint(report.checkpoint, verifiers);
  if (!note.signatures.some((s) => s.name === reportKey.name && s.keyId === reportKey.keyId)) {
    throw new AuditError("unverified_note", `the report's key ${keyLabel(reportKey)} has no trusted signature on the checkpoint`);
  }
  return [checkpoint, `signed by ${note.signatures.map(keyLabel).join(", ")}`];
}

async function checkpointBody(report: Report, checkpoint: Checkpoint): Promise<[Checkpoint, string]> {
  if (checkpoint.origin !== report.origin)
    throw fail("checkpoint origin differs from the report's", { expected: report.origin, calculated: checkpoint.origin });
  if (!report.origin.endsWith(`/${report.keyId}`)) throw fail(`origin ${report.origin} is not the log of key ${report.keyId}`);
  return [checkpoint, `${checkpoint.origin}, tree size ${checkpoint.size}, root ${toBase64(checkpoint.rootHash)}`];
}

/** The gateway's signature over (report id, key id, range, checkpoint): what makes a cut report fail. */
async function reportSignature(report: Report, checkpoint: Checkpoint, verifiers: NoteVerifier[], options: VerifyReportOptions): Promise<[true, string]> {
  if (report.signature === null) {
    const why = "a version 1 report: the gateway did not sign its range, so entries cut from either end cannot be detected";
    if (options.allowUnsignedRange) return [true, `not signed, ${why} (accepted as asked)`];
    throw fail(`${why}; ask the issuer for a new report`);
  }
  const reportKey = await parseVerifierKey(report.verifierKey);
  const { statement, note } = await openReportStatement(report.signature, verifiers);
  if (!note.signatures.some((s) => s.name === reportKey.name && s.keyId === reportKey.keyId)) {
    throw new AuditError("unverified_note", `the report's key ${keyLabel(reportKey)} did not sign the report`);
  }
  const { from_seq: from, to_seq: to } = report.range;
  if (statement.fromSeq !== from || statement.toSeq !== to) {
    throw fail(`the gateway issued this report for seq ${statement.fromSeq}..${statement.toSeq}, but it holds seq ${from}..${to}: entries were cut or added`, {
      expected: `${statement.fromSeq}..${statement.toSeq}`,
      calculated: `${from}..${to}`,
    });
  }
  if (statement.keyId !== report.keyId) throw fail("the report was issued for another key", { expected: statement.keyId, calculated: report.keyId });
  if (statement.reportId !== report.reportId)
    throw fail("the report id differs from the signed one", { expected: statement.reportId, calculated: String(report.reportId) });
  if (options.reportId !== undefined && statement.reportId !== options.reportId) {
    throw fail(`this is report ${statement.reportId}, not ${options.reportId}`, { expected: options.reportId, calculated: statement.reportId });
  }
  const signed = statement.checkpoint;
  if (signed.origin !== checkpoint.origin || signed.size !== checkpoint.size || !bytesEqual(signed.rootHash, checkpoint.rootHash)) {
    throw fail("the report was issued against another checkpoint", { expected: `size ${signed.size}`, calculated: `size ${checkpoint.size}` });
  }
  return [true, `report ${statement.reportId}, seq ${from}..${to} of key ${statement.keyId}, issued by ${keyLabel(reportKey)}`];
}

async function checkRange(report: Report, checkpoint: Checkpoint): Promise<[true, string]> {
  const { from_seq: from, to_seq: to } = report.range;
  if (to < from) throw fail(`to_seq ${to} < from_seq ${from}`);
  if (report.entries.length !== to - from + 1) {
    throw fail("entry count does not match the range", { expected: String(to - from + 1), calculated: String(report.entries.length) });
  }
  if (to > checkpoint.size) throw fail(`seq ${to} is beyond the checkpoint's tree size ${checkpoint.size}`);
  return [true, `seq ${from}..${to} of ${checkpoint.size}`];
}

/**
 * One line per entry: canonical text, right key, the expected seq, and a leaf hash of exactly
 * those bytes. The leaves for the range proof are the hashes of the bytes as given.
 */
async function checkEntries(report: Report, checks: Checks): Promise<Uint8Array[]> {
  const leaves: Uint8Array[] = [];
  for (const [i, { text, leafHash: claimed }] of report.entries.entries()) {
    const seq = report.range.from_seq + i;
    const bytes = utf8(text);
    const leaf = await leafHash(bytes);
    leaves.push(leaf);
    await check(checks, `entry seq ${seq}`, async () => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new AuditError("non_canonical", "the entry is not JSON");
      }
      if (!bytesEqual(canonicalEntryBytes(value), bytes)) {
        throw new AuditError(
          "non_canonical",
          "the entry text is not the RFC 8785 form of its content (a duplicated key, another key order, spacing or number spelling): the bytes hashed are not what a reader sees",
        );
      }
      const entry = auditEntrySchema.parse(value);
      if (entry.key_id !== report.keyId) throw fail("entry of another key", { expected: report.keyId, calculated: entry.key_id });
      if (entry.seq !== seq) throw fail(`expected seq ${seq}, found ${entry.seq}`);
      if (!bytesEqual(leaf, fromHex(claimed))) throw fail("leaf hash does not match the canonical entry", { expected: claimed, calculated: toHex(leaf) });
      if (isAdminEntry(entry)) return [true, `${entry.action} ${entry.target} by ${entry.actor}, leaf ${claimed.slice(0, 16)}…`];
      const times = entry.count === undefined ? "" : ` × ${entry.count}`;
      return [true, `${entry.model}, status ${entry.status}${times}, cost_micros ${entry.cost_micros}, leaf ${claimed.slice(0, 16)}…`];
    });
  }
  return leaves;
}

async function checkRangeProof(report: Report, checkpoint: Checkpoint, leaves: Uint8Array[]): Promise<[true, string]> {
  const proof = { left: report.rangeProof.left.map(fromHex), right: report.rangeProof.right.map(fromHex) };
  await verifyRange(report.range.from_seq - 1, report.range.to_seq, checkpoint.size, leaves, proof, checkpoint.rootHash);
  return [true, `entries ${report.range.from_seq}..${report.range.to_seq} are leaves of the checkpoint's tree`];
}

async function checkConsistency(report: Report, current: Checkpoint, verifiers: NoteVerifier[], options: VerifyReportOptions): Promise<[true, string]> {
  if (report.previous === null) {
    if (options.previousCheckpoint !== undefined) throw fail("you hold an earlier checkpoint but the report carries no consistency proof");
    return [true, "skipped: the report links no earlier checkpoint"];
  }
  const { checkpoint: previous } = await openCheckpoint(report.previous.checkpoint, verifiers, report.origin);
  if (options.previousCheckpoint !== undefined) {
    const { checkpoint: held } = await openCheckpoint(options.previousCheckpoint, verifiers, report.origin);
    if (held.size !== previous.size || !bytesEqual(held.rootHash, previous.rootHash)) {
      throw fail("the report links another earlier checkpoint than the one you hold", { expected: `size ${held.size}`, calculated: `size ${previous.size}` });
    }
  }
  await verifyCheckpointExtends(previous, current, report.previous.consistency_proof.map(fromHex));
  return [true, `tree of size ${current.size} extends the earlier signed tree of size ${previous.size}`];
}

/** Verifies a parsed report. Given the raw text, prefer `verifyReportText`, which also refuses duplicated keys. */
export async function verifyReport(input: unknown, trustedVerifierKeys: readonly string[], options: VerifyReportOptions = {}): Promise<ReportVerification> {
  const checks: Checks = [];
  const report = checkSchema(input, checks);
  if (report === undefined) return { ok: false, checks };
  const verifiers = (await check(checks, "trusted keys", () => trustedVerifiers(trustedVerifierKeys))) ?? [];
  const signed = await check(checks, "checkpoint signature", () => checkpointSignature(report, verifiers, trustedVerifierKeys));
  const checkpoint = signed && (await check(checks, "checkpoint", () => checkpointBody(report, signed)));
  if (checkpoint) await check(checks, "report signature", () => reportSignature(report, checkpoint, verifiers, options));
  const rangeOk = checkpoint && (await check(checks, "range", () => checkRange(report, checkpoint)));
  const leaves = await checkEntries(report, checks);
  if (checkpoint && rangeOk) {
    await check(checks, "range proof", () => checkRangeProof(report, checkpoint, leaves));
    await check(checks, "consistency", () => checkConsistency(report, checkpoint, verifiers, options));
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/** The report as text (a file, an HTTP body): strict JSON first, then `verifyReport`. */
export async function verifyReportText(text: string, trustedVerifierKeys: readonly string[], options: VerifyReportOptions = {}): Promise<ReportVerification> {
  let report: unknown;
  try {
    report = parseStrictJson(text);
  } catch (error) {
    return { ok: false, checks: [{ name: "json", ok: false, detail: describeError(error) }] };
  }
  return verifyReport(report, trustedVerifierKeys, options);
}
