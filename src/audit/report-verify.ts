/**
 * Verification of a shareable report (report.ts) as a checklist a page or a CLI can render line
 * by line. Pure: the trusted verifier keys are passed in. Order: schema → trust material →
 * checkpoint signature → checkpoint body → range → each entry → range proof → consistency.
 * A check that cannot run because an earlier one failed is left out; `ok` is true only when
 * every listed check passed.
 */
import { fromHex, toBase64, toHex } from "../lib/bytes";
import { bytesEqual } from "./encoding";
import { AuditError, describeError } from "./errors";
import { verifyRange } from "./merkle-range";
import { keyIdHex, parseVerifierKey, type NoteVerifier } from "./note-keys";
import { openCheckpoint, verifyCheckpointExtends, type Checkpoint } from "./checkpoint";
import { auditReportSchema, entryLeafHash, type AuditReport } from "./report";

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

function checkSchema(input: unknown, checks: Checks): AuditReport | undefined {
  const parsed = auditReportSchema.safeParse(input);
  if (parsed.success) {
    const r = parsed.data;
    checks.push({ name: "schema", ok: true, detail: `report v${r.version} for key ${r.key_id}, ${r.entries.length} entries` });
    return r;
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
async function checkpointSignature(report: AuditReport, verifiers: NoteVerifier[]): Promise<[Checkpoint, string]> {
  const reportKey = await parseVerifierKey(report.verifier_key);
  const { checkpoint, note } = await openCheckpoint(report.checkpoint, verifiers);
  if (!note.signatures.some((s) => s.name === reportKey.name && s.keyId === reportKey.keyId)) {
    throw new AuditError("unverified_note", `the report's key ${keyLabel(reportKey)} has no trusted signature on the checkpoint`);
  }
  return [checkpoint, `signed by ${note.signatures.map(keyLabel).join(", ")}`];
}

async function checkpointBody(report: AuditReport, checkpoint: Checkpoint): Promise<[Checkpoint, string]> {
  if (checkpoint.origin !== report.origin)
    throw fail("checkpoint origin differs from the report's", { expected: report.origin, calculated: checkpoint.origin });
  if (!report.origin.endsWith(`/${report.key_id}`)) throw fail(`origin ${report.origin} is not the log of key ${report.key_id}`);
  return [checkpoint, `${checkpoint.origin}, tree size ${checkpoint.size}, root ${toBase64(checkpoint.rootHash)}`];
}

async function checkRange(report: AuditReport, checkpoint: Checkpoint): Promise<[true, string]> {
  const { from_seq: from, to_seq: to } = report.range;
  if (to < from) throw fail(`to_seq ${to} < from_seq ${from}`);
  if (report.entries.length !== to - from + 1) {
    throw fail("entry count does not match the range", { expected: String(to - from + 1), calculated: String(report.entries.length) });
  }
  if (to > checkpoint.size) throw fail(`seq ${to} is beyond the checkpoint's tree size ${checkpoint.size}`);
  return [true, `seq ${from}..${to} of ${checkpoint.size}`];
}

/** One line per entry: right key, the expected seq, and a leaf hash that matches its canonical JSON. */
async function checkEntries(report: AuditReport, checks: Checks): Promise<Uint8Array[]> {
  const leaves: Uint8Array[] = [];
  for (const [i, { entry, leaf_hash }] of report.entries.entries()) {
    const seq = report.range.from_seq + i;
    const leaf = await entryLeafHash(entry);
    leaves.push(leaf);
    await check(checks, `entry seq ${seq}`, async () => {
      if (entry.key_id !== report.key_id) throw fail("entry of another key", { expected: report.key_id, calculated: entry.key_id });
      if (entry.seq !== seq) throw fail(`expected seq ${seq}, found ${entry.seq}`);
      if (!bytesEqual(leaf, fromHex(leaf_hash))) throw fail("leaf hash does not match the canonical entry", { expected: leaf_hash, calculated: toHex(leaf) });
      return [true, `${entry.model}, status ${entry.status}, cost_micros ${entry.cost_micros}, leaf ${leaf_hash.slice(0, 16)}…`];
    });
  }
  return leaves;
}

async function checkRangeProof(report: AuditReport, checkpoint: Checkpoint, leaves: Uint8Array[]): Promise<[true, string]> {
  const proof = { left: report.range_proof.left.map(fromHex), right: report.range_proof.right.map(fromHex) };
  await verifyRange(report.range.from_seq - 1, report.range.to_seq, checkpoint.size, leaves, proof, checkpoint.rootHash);
  return [true, `entries ${report.range.from_seq}..${report.range.to_seq} are leaves of the checkpoint's tree`];
}

async function checkConsistency(report: AuditReport, current: Checkpoint, verifiers: NoteVerifier[], options: VerifyReportOptions): Promise<[true, string]> {
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

export async function verifyReport(input: unknown, trustedVerifierKeys: readonly string[], options: VerifyReportOptions = {}): Promise<ReportVerification> {
  const checks: Checks = [];
  const report = checkSchema(input, checks);
  if (report === undefined) return { ok: false, checks };
  const verifiers = (await check(checks, "trusted keys", () => trustedVerifiers(trustedVerifierKeys))) ?? [];
  const signed = await check(checks, "checkpoint signature", () => checkpointSignature(report, verifiers));
  const checkpoint = signed && (await check(checks, "checkpoint", () => checkpointBody(report, signed)));
  const rangeOk = checkpoint && (await check(checks, "range", () => checkRange(report, checkpoint)));
  const leaves = await checkEntries(report, checks);
  if (checkpoint && rangeOk) {
    await check(checks, "range proof", () => checkRangeProof(report, checkpoint, leaves));
    await check(checks, "consistency", () => checkConsistency(report, checkpoint, verifiers, options));
  }
  return { ok: checks.every((c) => c.ok), checks };
}
