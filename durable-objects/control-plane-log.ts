import { DurableObject } from "cloudflare:workers";
import { AuditLog, AuditUnavailable, auditFailure, type AdminFields, type AuditEnv, type AuditPageResult } from "./key-guard-audit";
import { AuditStore } from "./key-guard-audit-store";
import { AuditCheckpoints, type AuditCheckpointResult, type AuditRange, type AuditReportResult } from "./key-guard-checkpoints";

/** The control-plane log's id: its chain key, its checkpoint origin (`<prefix>/control-plane`), its reports' key_id. */
export const CONTROL_PLANE_LOG_ID = "control-plane";

const TABLES = [
  `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS audit_entries (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL, hash TEXT)`,
  `CREATE TABLE IF NOT EXISTS audit_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS audit_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, verifier_key TEXT NOT NULL, signed_at INTEGER NOT NULL)`,
  // keyHistory: a key's entries without a scan of the whole log (built once over existing rows).
  `CREATE INDEX IF NOT EXISTS audit_entries_target ON audit_entries (json_extract(entry, '$.target'))`,
];

/**
 * The control-plane log: one instance (getByName(CONTROL_PLANE_LOG_ID)) holding one entry per
 * state-changing admin request, with the same machinery as a key's log (AuditLog: append then
 * seal into the HMAC chain and RFC 6962 tree; AuditCheckpoints: Ed25519 checkpoints, reports).
 * `record` appends synchronously and returns only after the row is committed (the output gate
 * holds the RPC's answer until the SQLite write is durable), so a caller that applies its change
 * after `record` returned never applies a change without its entry. See src/audit/README.md.
 */
export class ControlPlaneLog extends DurableObject<Cloudflare.Env> {
  /** Public so tests can hold the sealer. */
  readonly auditLog: AuditLog;
  private readonly checkpoints: AuditCheckpoints;
  private alarmAt: number | null = null;
  now: () => number = () => Date.now();
  auditEnv: AuditEnv;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.auditEnv = env;
    const store = new AuditStore(ctx.storage.sql);
    const logId = () => CONTROL_PLANE_LOG_ID;
    this.auditLog = new AuditLog(store, () => this.auditEnv, logId);
    this.checkpoints = new AuditCheckpoints(store, this.auditLog, () => this.auditEnv, logId);
    void ctx.blockConcurrencyWhile(async () => {
      for (const statement of TABLES) ctx.storage.sql.exec(statement);
      this.alarmAt = await ctx.storage.getAlarm();
      this.auditLog.load();
      this.checkpoints.load(this.now());
      if (this.checkpoints.nextDue !== null) this.scheduleAlarm(this.checkpoints.nextDue);
    });
  }

  /** Appends one entry (committed before this returns); its time is the log's clock. */
  record(fields: Omit<AdminFields, "logId" | "ts">): { seq: number; ts: number } {
    const ts = this.now();
    const seq = this.auditLog.appendAdmin({ ...fields, logId: CONTROL_PLANE_LOG_ID, ts });
    const due = this.checkpoints.noteGrowth(ts);
    if (due !== null) this.scheduleAlarm(due);
    return { seq, ts };
  }

  /**
   * The entries whose target is `key:<keyId>` (its policy changes and their `failed` markers), for
   * the key's KeyGuard to copy at its first use (src/keys/policy-history.ts). Unsealed rows included:
   * the copy takes their fields, not their hashes.
   */
  keyHistory(keyId: string): Array<{ seq: number; entry: string }> {
    return this.ctx.storage.sql
      .exec<{ seq: number; entry: string }>(
        `SELECT seq, entry FROM audit_entries WHERE json_extract(entry, '$.target') = ? ORDER BY seq LIMIT 1000`,
        `key:${keyId}`,
      )
      .toArray();
  }

  async auditPage(_logId: string, after: number, limit: number): Promise<AuditPageResult> {
    try {
      return await this.auditLog.page(after, limit);
    } catch (error) {
      if (error instanceof AuditUnavailable) return auditFailure("unavailable", error.message);
      throw error;
    }
  }

  auditTimeRange(_logId: string, fromTs: number, toTs: number): { ok: true; range: { first: number; last: number } | null } {
    return { ok: true, range: this.auditLog.seqRangeByTime(fromTs, toTs) };
  }

  auditCheckpoint(_logId: string): Promise<AuditCheckpointResult> {
    return this.checkpoints.ensure(this.now());
  }

  auditReport(_logId: string, range: AuditRange, reportId: string): Promise<AuditReportResult> {
    return this.checkpoints.report(range, this.now(), reportId);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    await this.checkpoints.signIfDue(this.now());
    const next = this.checkpoints.nextDue;
    if (next !== null) this.scheduleAlarm(next);
  }

  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(Date.now() + Math.max(0, at - this.now()));
  }
}
