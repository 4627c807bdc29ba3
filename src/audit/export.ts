/**
 * Audit export: a log (a key's, or the control plane's) as JSON Lines for a SIEM or object storage,
 * verifiable offline. The export is a run of signed reports (report.ts) cut into lines, so it
 * carries exactly what a report carries: each entry's exact bytes and leaf hash, and per segment
 * (at most 2000 entries) the signed checkpoint, the range proof and the report signature.
 *
 *   {"type":"export","version":1,"log":"<key id | control-plane>","from_seq":a,"to_seq":b}
 *   {"type":"entry","seq":s,"entry":"<RFC 8785 text>","leaf_hash":"<hex>"}        × segment size
 *   {"type":"segment","report":{…the segment's report without "entries"…}}
 *   …more entries and segments…
 *   {"type":"end","segments":n}      (or, when the export failed part-way: {"type":"error","message":…})
 *
 * `verifyExport` rebuilds each segment's report, verifies it with verifyReport, and checks that the
 * segments are of the header's log and cover a..b exactly, in order, and that the `end` line is
 * there: a cut, reordered or spliced export fails.
 */
import * as z from "zod";
import { describeError } from "./errors";
import type { AuditReport } from "./report";
import { verifyReport, type ReportCheck, type VerifyReportOptions } from "./report-verify";
import { parseStrictJson } from "./strict-json";

export const MAX_EXPORT_SEGMENT = 2000;

const header = z.strictObject({
  type: z.literal("export"),
  version: z.literal(1),
  log: z.string().min(1).max(128),
  from_seq: z.int().min(1),
  to_seq: z.int().min(1),
});
const entryLine = z.strictObject({ type: z.literal("entry"), seq: z.int().min(1), entry: z.string(), leaf_hash: z.string() });
const segmentLine = z.strictObject({ type: z.literal("segment"), report: z.record(z.string(), z.unknown()) });
const endLine = z.strictObject({ type: z.literal("end"), segments: z.int().min(0) });

export const exportHeaderLine = (log: string, fromSeq: number, toSeq: number) =>
  JSON.stringify({ type: "export", version: 1, log, from_seq: fromSeq, to_seq: toSeq });

/** The lines of one segment: its entries, then the report they belong to. */
export function exportSegmentLines(report: AuditReport): string[] {
  const { entries, ...rest } = report;
  const lines = entries.map((e, i) => JSON.stringify({ type: "entry", seq: report.range.from_seq + i, entry: e.entry, leaf_hash: e.leaf_hash }));
  return [...lines, JSON.stringify({ type: "segment", report: rest })];
}

export const exportEndLine = (segments: number) => JSON.stringify({ type: "end", segments });

/** Written instead of the end line when the export fails part-way. */
export const exportErrorLine = (message: string) => JSON.stringify({ type: "error", message });

export interface ExportVerification {
  ok: boolean;
  checks: ReportCheck[];
}

export function looksLikeExport(text: string): boolean {
  return /^\s*\{\s*"type"\s*:\s*"export"/.test(text);
}

export async function verifyExport(text: string, trustedKeys: readonly string[], options: VerifyReportOptions = {}): Promise<ExportVerification> {
  const checks: ReportCheck[] = [];
  const fail = (name: string, detail: string): ExportVerification => {
    checks.push({ name, ok: false, detail });
    return { ok: false, checks };
  };
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  let head: z.infer<typeof header>;
  try {
    head = header.parse(parseStrictJson(lines[0] ?? ""));
  } catch (error) {
    return fail("export header", describeError(error));
  }
  checks.push({ name: "export header", ok: true, detail: `log ${head.log}, seqs ${head.from_seq}..${head.to_seq}` });
  let next = head.from_seq;
  let pending: Array<{ entry: string; leaf_hash: string; seq: number }> = [];
  let segments = 0;
  for (let i = 1; i < lines.length; i++) {
    let value: unknown;
    try {
      value = parseStrictJson(lines[i]!);
    } catch (error) {
      return fail(`line ${i + 1}`, describeError(error));
    }
    const entry = entryLine.safeParse(value);
    if (entry.success) {
      pending.push(entry.data);
      continue;
    }
    const segment = segmentLine.safeParse(value);
    if (segment.success) {
      segments++;
      const report = { ...segment.data.report, entries: pending.map((e) => ({ entry: e.entry, leaf_hash: e.leaf_hash })) } as Record<string, unknown>;
      const range = report.range as { from_seq?: number; to_seq?: number } | undefined;
      if (report.key_id !== head.log) return fail(`segment ${segments}`, `of log ${String(report.key_id)}, not ${head.log}`);
      if (range?.from_seq !== next || pending.some((e, k) => e.seq !== next + k))
        return fail(`segment ${segments}`, `does not start at seq ${next} or is out of order`);
      const result = await verifyReport(report, trustedKeys, options);
      const failed = result.checks.filter((c) => !c.ok);
      if (!result.ok) return fail(`segment ${segments}`, failed.map((c) => `${c.name}: ${c.detail}`).join("; ") || "failed");
      checks.push({ name: `segment ${segments}`, ok: true, detail: `seqs ${range.from_seq}..${range.to_seq ?? "?"}: ${result.checks.length} checks passed` });
      next = (range.to_seq ?? 0) + 1;
      pending = [];
      continue;
    }
    const end = endLine.safeParse(value);
    if (end.success) {
      if (pending.length > 0) return fail("end", "entries after the last segment are not covered by a signature");
      if (end.data.segments !== segments) return fail("end", `says ${end.data.segments} segments, found ${segments}`);
      if (next !== head.to_seq + 1) return fail("end", `the segments cover up to seq ${next - 1}, not ${head.to_seq}`);
      if (i !== lines.length - 1) return fail("end", "lines after the end");
      checks.push({ name: "end", ok: true, detail: `${segments} segments cover seqs ${head.from_seq}..${head.to_seq}` });
      return { ok: true, checks };
    }
    const error = z.strictObject({ type: z.literal("error"), message: z.string() }).safeParse(value);
    if (error.success) return fail("export", `the gateway stopped the export: ${error.data.message}`);
    return fail(`line ${i + 1}`, "not an export line");
  }
  return fail("end", "the export is cut short: no end line");
}
