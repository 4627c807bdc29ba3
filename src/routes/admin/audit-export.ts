import type { Context } from "hono";
import * as z from "zod";
import { CONTROL_PLANE_LOG_ID } from "../../../durable-objects/control-plane-log";
import type { AuditFailure, AuditPageResult } from "../../../durable-objects/key-guard-audit";
import type { AuditRange, AuditReportResult } from "../../../durable-objects/key-guard-checkpoints";
import { exportEndLine, exportErrorLine, exportHeaderLine, exportSegmentLines, MAX_EXPORT_SEGMENT } from "../../audit/export";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { loadKeyRecord } from "../../keys/catalogue";
import { isKeyId, randomBase62 } from "../../keys/token";
import { logError } from "../../lib/log";
import { parseWith } from "../../lib/request-body";
import { controlPlaneLog } from "../../middleware/control-plane";
import { unwrap } from "./audit";

/**
 * `GET /admin/v1/audit/export?key_id=&from=&to=`: a log as JSON Lines (src/audit/export.ts),
 * streamed segment by segment. No key_id: the control-plane log. `from` / `to` are either seqs
 * (inclusive) or ISO-8601 times (`from` inclusive, `to` exclusive, so consecutive exports tile);
 * absent: the whole log as it is when the export starts.
 *
 * A time range becomes the seq range from the first to the last entry stamped inside it: an export
 * is always a contiguous run of the chain, or it could not be verified against a checkpoint. Entry
 * times follow seq order except a coalesced denial entry, which carries its first denial's time
 * and is appended up to about a minute later; such an entry can sit inside the seq range with a
 * time just outside the window.
 */

const seq = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, "must be a positive integer (a seq) or an ISO-8601 time")
  .transform((s) => ({ seq: Number(s) }));
const time = z.iso.datetime({ offset: true }).transform((s) => ({ ts: Date.parse(s) }));
const bound = (what: string) =>
  z.union([seq, time], { error: "must be a seq (positive integer) or an ISO-8601 time with a zone, e.g. 2026-01-31T00:00:00Z" }).meta({ description: what });
export const auditExportQuery = z
  .strictObject({
    key_id: z.string().max(64).optional(),
    from: bound("First seq (inclusive), or an ISO-8601 time (inclusive)").optional(),
    to: bound("Last seq (inclusive), or an ISO-8601 time (exclusive)").optional(),
  })
  .refine((q) => !(q.from && q.to && "seq" in q.from !== "seq" in q.to), {
    message: "from and to must both be seqs or both be ISO-8601 times",
    path: ["to"],
  });

type Bound = { seq: number } | { ts: number };

interface AuditSource {
  auditPage(logId: string, after: number, limit: number): Promise<AuditPageResult>;
  auditReport(logId: string, range: AuditRange, reportId: string): Promise<AuditReportResult>;
  auditTimeRange(logId: string, fromTs: number, toTs: number): Promise<{ ok: true; range: { first: number; last: number } | null } | AuditFailure>;
}

async function sourceOf(env: Env, keyId: string | undefined): Promise<{ id: string; source: AuditSource }> {
  if (keyId === undefined) return { id: CONTROL_PLANE_LOG_ID, source: controlPlaneLog(env) as unknown as AuditSource };
  const record = isKeyId(keyId) ? await loadKeyRecord(env.DB, keyId) : null;
  if (!record) throw new GatewayError("not_found", `No virtual key with id '${keyId}'.`);
  // The admin API never creates a key's KeyGuard: a key never used has an empty log.
  if (record.activatedAt === null) throw new GatewayError("invalid_request", "The audit log of this key is empty: it has not been used yet.");
  return { id: record.id, source: env.KEY_GUARD.getByName(record.id) as unknown as AuditSource };
}

/** The inclusive seq range to export; a time range with no entry in it is a 400 (nothing to export). */
async function seqRange(id: string, source: AuditSource, size: number, from: Bound | undefined, to: Bound | undefined): Promise<[number, number]> {
  if ((from && "ts" in from) || (to && "ts" in to)) {
    const fromTs = from && "ts" in from ? from.ts : 0;
    const toTs = to && "ts" in to ? to.ts : Number.MAX_SAFE_INTEGER;
    if (fromTs >= toTs) throw new GatewayError("invalid_request", "from must be before to.", { param: "from" });
    const { range } = unwrap(await source.auditTimeRange(id, fromTs, toTs));
    if (!range) throw new GatewayError("invalid_request", "No audit entry is stamped in that time range: there is nothing to export.");
    return [range.first, range.last];
  }
  const first = from && "seq" in from ? from.seq : 1;
  const last = to && "seq" in to ? to.seq : size;
  if (first > last || last > size) throw new GatewayError("invalid_request", `The range ${first}..${last} is outside the log's seqs 1..${size}.`);
  return [first, last];
}

export async function auditExport(c: Context<AppEnv>): Promise<Response> {
  const q = parseWith(auditExportQuery, c.req.query());
  const { id, source } = await sourceOf(c.env, q.key_id);
  const size = unwrap(await source.auditPage(id, 0, 1)).head.seq;
  if (size === 0) throw new GatewayError("invalid_request", "The audit log is empty: there is nothing to export.");
  const [from, to] = await seqRange(id, source, size, q.from, q.to);
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const write = (lines: string[]) => writer.write(encoder.encode(lines.map((l) => `${l}\n`).join("")));
  const run = async () => {
    let segments = 0;
    try {
      await write([exportHeaderLine(id, from, to)]);
      for (let start = from; start <= to; start += MAX_EXPORT_SEGMENT) {
        const range = { fromSeq: start, toSeq: Math.min(to, start + MAX_EXPORT_SEGMENT - 1) };
        const { report } = unwrap(await source.auditReport(id, range, `exp_${randomBase62(22)}`));
        await write(exportSegmentLines(report));
        segments++;
      }
      await write([exportEndLine(segments)]);
      await writer.close();
    } catch (error) {
      // The status is sent already: an error line, and no end line, tell the reader the export failed.
      logError("audit export stopped", { log: id, error: String(error) });
      const message = error instanceof GatewayError ? error.message : "The export failed.";
      await write([exportErrorLine(message)]).catch(() => undefined);
      await writer.close().catch(() => undefined);
    }
  };
  c.executionCtx.waitUntil(run());
  return new Response(readable, { headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" } });
}
