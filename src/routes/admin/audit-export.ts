import type { Context } from "hono";
import * as z from "zod";
import { CONTROL_PLANE_LOG_ID } from "../../../durable-objects/control-plane-log";
import type { AuditPageResult } from "../../../durable-objects/key-guard-audit";
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
 * streamed segment by segment. No key_id: the control-plane log. `from` / `to` are seqs
 * (inclusive; default the whole log as it is when the export starts).
 */

const seq = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, "must be a positive integer")
  .transform(Number);
export const auditExportQuery = z.strictObject({ key_id: z.string().max(64).optional(), from: seq.optional(), to: seq.optional() });

interface AuditSource {
  auditPage(logId: string, after: number, limit: number): Promise<AuditPageResult>;
  auditReport(logId: string, range: AuditRange, reportId: string): Promise<AuditReportResult>;
}

async function sourceOf(env: Env, keyId: string | undefined): Promise<{ id: string; source: AuditSource }> {
  if (keyId === undefined) return { id: CONTROL_PLANE_LOG_ID, source: controlPlaneLog(env) as unknown as AuditSource };
  const record = isKeyId(keyId) ? await loadKeyRecord(env.DB, keyId) : null;
  if (!record) throw new GatewayError("not_found", `No virtual key with id '${keyId}'.`);
  // The admin API never creates a key's KeyGuard: a key never used has an empty log.
  if (record.activatedAt === null) throw new GatewayError("invalid_request", "The audit log of this key is empty: it has not been used yet.");
  return { id: record.id, source: env.KEY_GUARD.getByName(record.id) as unknown as AuditSource };
}

export async function auditExport(c: Context<AppEnv>): Promise<Response> {
  const q = parseWith(auditExportQuery, c.req.query());
  const { id, source } = await sourceOf(c.env, q.key_id);
  const size = unwrap(await source.auditPage(id, 0, 1)).head.seq;
  const from = q.from ?? 1;
  const to = q.to ?? size;
  if (size === 0) throw new GatewayError("invalid_request", "The audit log is empty: there is nothing to export.");
  if (from > to || to > size) throw new GatewayError("invalid_request", `The range ${from}..${to} is outside the log's seqs 1..${size}.`);
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
