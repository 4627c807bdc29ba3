import { drizzle } from "drizzle-orm/d1";
import { parseCanonicalEntry } from "../src/audit/canonical-json";
import { assertCheckpointGrowth, checkpointOrigin, parseCheckpoint, signCheckpoint, verifyCheckpointExtends, type Checkpoint } from "../src/audit/checkpoint";
import { AuditError, describeError } from "../src/audit/errors";
import { leafHash } from "../src/audit/merkle";
import { rangeProof } from "../src/audit/merkle-range";
import { consistencyProof, rootAt } from "../src/audit/merkle-store";
import { keyIdHex, type NoteSigner } from "../src/audit/note-keys";
import { buildReport, signReport, type AuditReport, type UnsignedAuditReport } from "../src/audit/report";
import { signingKeyring } from "../src/audit/signing-keys";
import { auditSigningKeys } from "../src/db/schema";
import { toHex, utf8 } from "../src/lib/bytes";
import { logError } from "../src/lib/log";
import { auditFailure, AuditUnavailable, type AuditEnv, type AuditFailure, type AuditLog } from "./key-guard-audit";
import type { AuditStore, StoredCheckpoint } from "./key-guard-audit-store";

/**
 * Signed checkpoints and reports of one key's log.
 *
 * Policy: the alarm signs a checkpoint of the whole sealed log AUDIT_CHECKPOINT_MS (default
 * 60 s) after the log grew, never sooner than that after the previous one; a report signs one on
 * demand. Signing is serialized and guarded: never a size smaller than a checkpoint signed before,
 * never another root for a signed size, and a larger size only with a consistency proof from the
 * last one, so a truncated or rewritten log makes the signer refuse instead of sign.
 */

export const DEFAULT_ORIGIN_PREFIX = "keyforge.dev/audit";
const DEFAULT_CHECKPOINT_MS = 60_000;
/** A report is one D1 row (at most 2 MB); an entry takes up to ~800 bytes in it. */
export const MAX_REPORT_ENTRIES = 2000;

export type AuditCheckpointResult = ({ ok: true } & StoredCheckpoint) | AuditFailure;
export type AuditReportResult = { ok: true; report: AuditReport } | AuditFailure;
export interface AuditRange {
  fromSeq?: number;
  toSeq?: number;
}

// Verifier keys already in D1, per isolate: recording is one write per key, not per checkpoint.
const recorded = new Set<string>();

/** Publishes a verifier key (D1 audit_signing_keys) before its first signature exists. */
export async function recordVerifierKey(db: D1Database, signer: Pick<NoteSigner, "name" | "keyId" | "verifierKey">): Promise<void> {
  if (recorded.has(signer.verifierKey)) return;
  await drizzle(db)
    .insert(auditSigningKeys)
    .values({ verifierKey: signer.verifierKey, name: signer.name, keyId: keyIdHex(signer.keyId) })
    .onConflictDoNothing();
  recorded.add(signer.verifierKey);
}

const checkpointOf = (stored: StoredCheckpoint): Checkpoint => parseCheckpoint(stored.note.slice(0, stored.note.indexOf("\n\n") + 1));

export class AuditCheckpoints {
  private signing: Promise<unknown> = Promise.resolve();
  private dueAt: number | null = null;
  /** Kept in memory so planning a checkpoint costs the hot path no query. */
  private lastSignedAt = 0;

  constructor(
    private readonly store: AuditStore,
    private readonly log: AuditLog,
    private readonly config: () => AuditEnv,
    private readonly keyId: () => string | null,
  ) {}

  /** When the alarm should next sign a checkpoint; null when none is pending. */
  get nextDue(): number | null {
    return this.dueAt;
  }

  /** On every append (cheap): plans the next checkpoint if none is planned; returns its time when newly planned. */
  noteGrowth(now: number): number | null {
    if (this.dueAt !== null || !this.config().AUDIT_SIGNING_KEYS) return null;
    this.dueAt = Math.max(now, this.lastSignedAt) + this.intervalMs();
    return this.dueAt;
  }

  /** After a restart: a log that outgrew its last checkpoint still needs one. */
  load(now: number): void {
    const latest = this.store.latestCheckpoint();
    this.lastSignedAt = latest?.signedAt ?? 0;
    if ((this.store.lastRow()?.seq ?? 0) > (latest?.size ?? 0)) this.noteGrowth(now);
  }

  /** The alarm's part: sign if due. Never throws; a failure waits for the next growth. */
  async signIfDue(now: number): Promise<void> {
    if (this.dueAt === null || now < this.dueAt) return;
    this.dueAt = null;
    try {
      const result = await this.ensure(now);
      if (!result.ok) {
        logError("audit checkpoint not signed", { key_id: this.keyId(), code: result.code, problem: result.message });
      } else if ((this.store.lastRow()?.seq ?? 0) > result.size) {
        this.noteGrowth(now);
      }
    } catch (error) {
      logError("audit checkpoint failed", { key_id: this.keyId(), error: describeError(error) });
    }
  }

  /** A signed checkpoint of the whole sealed log: the latest if it is current, else a new one. Serialized. */
  ensure(now: number): Promise<AuditCheckpointResult> {
    const next = this.signing.then(() => this.signLatest(now));
    this.signing = next.catch(() => undefined);
    return next;
  }

  private async signLatest(now: number): Promise<AuditCheckpointResult> {
    const keyId = this.keyId();
    if (keyId === null) return auditFailure("not_found", "The key has no audit log.");
    const unsealed = await this.sealedOrUnavailable();
    if (unsealed) return unsealed;
    const size = this.store.treeSize();
    if (size === 0) return auditFailure("invalid_range", "The audit log is empty.");
    let signer: NoteSigner;
    try {
      signer = (await signingKeyring(this.config().AUDIT_SIGNING_KEYS)).active;
    } catch (error) {
      return auditFailure("unavailable", `Checkpoints cannot be signed: ${describeError(error)}`);
    }
    const latest = this.store.latestCheckpoint();
    if (latest && latest.size === size && latest.verifierKey === signer.verifierKey) return { ok: true, ...latest };
    try {
      const stored = await this.sign(keyId, size, latest, signer, now);
      return { ok: true, ...stored };
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      return auditFailure("integrity", `The audit log contradicts a checkpoint signed before: ${describeError(error)}`);
    }
  }

  /** Waits for the sealer; a log that cannot be sealed (configuration) is an `unavailable` failure. */
  private async sealedOrUnavailable(): Promise<AuditFailure | null> {
    try {
      await this.log.sealed();
      return null;
    } catch (error) {
      if (error instanceof AuditUnavailable) return auditFailure("unavailable", error.message);
      throw error;
    }
  }

  private async sign(keyId: string, size: number, latest: StoredCheckpoint | null, signer: NoteSigner, now: number): Promise<StoredCheckpoint> {
    const origin = checkpointOrigin(this.config().AUDIT_ORIGIN_PREFIX ?? DEFAULT_ORIGIN_PREFIX, keyId);
    const next: Checkpoint = { origin, size, rootHash: await rootAt(this.store, size) };
    if (latest) {
      const previous = checkpointOf(latest);
      // The growth guard, and for a larger tree a consistency proof from the last signed one.
      if (size > previous.size) await verifyCheckpointExtends(previous, next, await consistencyProof(this.store, previous.size, size));
      else assertCheckpointGrowth(previous, next);
    }
    await recordVerifierKey(this.config().DB, signer);
    const stored = { size, note: await signCheckpoint(next, [signer]), verifierKey: signer.verifierKey, signedAt: now };
    this.store.saveCheckpoint(stored);
    this.lastSignedAt = now;
    return stored;
  }

  /**
   * A report of seqs from..to (default: the whole log) against a fresh or current checkpoint,
   * issued as `reportId`: signed as a whole (report id, key id, range, checkpoint) by the key
   * that signed the checkpoint, so a copy cut at either end no longer verifies.
   */
  async report(range: AuditRange, now: number, reportId: string): Promise<AuditReportResult> {
    const unsealed = await this.sealedOrUnavailable();
    if (unsealed) return unsealed;
    const size = this.store.treeSize();
    if (size === 0) return auditFailure("invalid_range", "The audit log is empty: there is nothing to report.");
    const from = range.fromSeq ?? 1;
    const to = range.toSeq ?? size;
    if (from < 1 || to < from || to > size) return auditFailure("invalid_range", `The range ${from}..${to} is outside the log's seqs 1..${size}.`);
    if (to - from + 1 > MAX_REPORT_ENTRIES) {
      return auditFailure(
        "invalid_range",
        `A report holds at most ${MAX_REPORT_ENTRIES} entries; ${from}..${to} has ${to - from + 1}. Pass from_seq and to_seq.`,
      );
    }
    const signed = await this.ensure(now);
    if (!signed.ok) return signed;
    let signer: NoteSigner;
    try {
      signer = (await signingKeyring(this.config().AUDIT_SIGNING_KEYS)).active;
    } catch (error) {
      return auditFailure("unavailable", `Reports cannot be signed: ${describeError(error)}`);
    }
    // ensure() returns a checkpoint by the active key; were the keys swapped meanwhile, refuse.
    if (signer.verifierKey !== signed.verifierKey) return auditFailure("unavailable", "The audit signing keys changed while the report was made: try again.");
    try {
      return { ok: true, report: await signReport(await this.build(from, to, signed), reportId, signer) };
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      return auditFailure("integrity", `The stored audit log failed a check: ${describeError(error)}`);
    }
  }

  private async build(from: number, to: number, signed: StoredCheckpoint): Promise<UnsignedAuditReport> {
    const keyId = this.keyId() as string;
    const rows = this.store.page(from - 1, to - from + 1);
    if (rows.length !== to - from + 1 || rows.some((r, i) => r.seq !== from + i)) {
      throw new AuditError("chain_order", `entries between ${from} and ${to} are missing`);
    }
    for (const row of rows) {
      // The entry must still be the leaf the checkpoint commits to.
      const stored = this.store.get(0, row.seq - 1);
      const leaf = await leafHash(utf8(row.entry));
      if (!stored || toHex(stored) !== toHex(leaf)) throw new AuditError("root_mismatch", `entry ${row.seq} is not the logged leaf`, { seq: row.seq });
    }
    const previous = this.store.latestCheckpointBelow(signed.size);
    return buildReport({
      keyId,
      origin: checkpointOf(signed).origin,
      entries: rows.map((r) => parseCanonicalEntry(utf8(r.entry))),
      rangeProof: await rangeProof(this.store, from - 1, to, signed.size),
      checkpoint: signed.note,
      verifierKey: signed.verifierKey,
      previous: previous && { checkpoint: previous.note, consistencyProof: await consistencyProof(this.store, previous.size, signed.size) },
    });
  }

  private intervalMs(): number {
    const ms = Number(this.config().AUDIT_CHECKPOINT_MS);
    return Number.isInteger(ms) && ms > 0 ? ms : DEFAULT_CHECKPOINT_MS;
  }
}
