import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { CONTROL_PLANE_LOG_ID } from "../../../durable-objects/control-plane-log";
import type { AuditHead } from "../../../durable-objects/key-guard-audit";
import { genesisHash, verifyChain } from "../../audit/chain";
import { auditReports } from "../../db/schema";
import type { AppEnv } from "../../env";
import { randomBase62 } from "../../keys/token";
import { parseWith } from "../../lib/request-body";
import { controlPlaneLog } from "../../middleware/control-plane";
import { auditPageQuery, chainKeyOf, parseEntry, readOptionalBody, unwrap, VERIFY_PAGE } from "./audit";
import { auditExport } from "./audit-export";

/**
 * The control-plane log (mounted at /admin/v1/audit), the same API as a key's log:
 *   GET  /?after=&limit=    a page of entries with their chain hashes, and the head
 *   POST /verify            recompute the whole chain, name the first bad seq
 *   POST /reports           sign a checkpoint and the report (key_id "control-plane"), store it, return its URL
 *   GET  /export?key_id=&from=&to=   any log (this one without key_id) as verifiable JSON Lines (audit-export.ts)
 */
export const controlPlaneAuditRoutes = new Hono<AppEnv>();

const ID = CONTROL_PLANE_LOG_ID;

controlPlaneAuditRoutes.get("/", async (c) => {
  const q = parseWith(auditPageQuery, c.req.query());
  const page = unwrap(await controlPlaneLog(c.env).auditPage(ID, q.after, q.limit));
  return c.json({
    object: "list",
    data: page.rows.map((row) => ({ ...parseEntry(row.entry, row.seq), hash: row.hash })),
    head: page.head,
    has_more: page.hasMore,
  });
});

controlPlaneAuditRoutes.get("/export", auditExport);

controlPlaneAuditRoutes.post("/verify", async (c) => {
  const chainKey = await chainKeyOf(c.env, ID);
  const log = controlPlaneLog(c.env);
  let head: AuditHead & { hash: string } = { seq: 0, hash: await genesisHash(chainKey, ID) };
  for (;;) {
    const page = unwrap(await log.auditPage(ID, head.seq, VERIFY_PAGE));
    const result = await verifyChain(
      chainKey,
      ID,
      page.rows.map((row) => ({ entry: row.entry, hash: row.hash ?? "" })),
      head,
    );
    head = { seq: head.seq + result.entries, hash: result.head };
    if (!result.valid) {
      const error = result.error && { code: result.error.code, message: result.error.message };
      return c.json({ valid: false, entries: head.seq, head, first_invalid_seq: result.first_invalid_seq, error });
    }
    if (!page.hasMore) return c.json({ valid: true, entries: head.seq, head, first_invalid_seq: null });
  }
});

controlPlaneAuditRoutes.post("/reports", async (c) => {
  const input = await readOptionalBody(c);
  const id = `rpt_${randomBase62(22)}`;
  const { report } = unwrap(await controlPlaneLog(c.env).auditReport(ID, { fromSeq: input.from_seq, toSeq: input.to_seq }, id));
  await drizzle(c.env.DB)
    .insert(auditReports)
    .values({ id, keyId: ID, body: JSON.stringify(report) });
  return c.json({ id, url: `${new URL(c.req.url).origin}/reports/${id}` }, 201);
});
