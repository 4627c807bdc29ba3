import type { MerkleNode, MerkleNodeStore } from "../src/audit/merkle-store";

/**
 * The KeyGuard's audit tables (created by KeyGuardStore.migrate):
 *
 *   audit_entries(seq, entry, hash)   entry = RFC 8785 text, written with the charge; hash NULL until sealed
 *   audit_nodes(level, idx, hash)     RFC 6962 perfect-subtree hashes; leaf seq s is (0, s - 1)
 *   audit_checkpoints(size, note, …)  every checkpoint signed for this key's log
 *   meta 'audit_tree_size'            seqs 1..size are sealed (hash set, leaf and nodes written)
 *   audit_denials(code, …)            denials counted but not yet appended: one open window per kind
 *
 * The sealed prefix is tracked by its size, not by `hash IS NULL`: a hash erased by tampering
 * must show up as a bad entry, not be quietly recomputed by the sealer.
 * Every method is synchronous; see KeyGuardStore for why that matters.
 */

export interface AuditRow {
  seq: number;
  /** Canonical JSON text of the entry. */
  entry: string;
  /** Chain hash (hex); null while the row waits for the sealer. */
  hash: string | null;
}

export interface StoredCheckpoint {
  size: number;
  /** The signed note (C2SP tlog-checkpoint); its body is the authority for origin and root. */
  note: string;
  verifierKey: string;
  signedAt: number;
}

type CheckpointRow = { size: number; note: string; verifier_key: string; signed_at: number };

/** Denials of one kind (denial code) counted since `windowStart`; `first` is the first one's entry fields (JSON). */
export interface DenialWindow {
  code: string;
  windowStart: number;
  count: number;
  first: string;
}

const toBlob = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

function toCheckpoint(row: CheckpointRow | undefined): StoredCheckpoint | null {
  if (!row) return null;
  return { size: row.size, note: row.note, verifierKey: row.verifier_key, signedAt: row.signed_at };
}

export class AuditStore implements MerkleNodeStore {
  /**
   * The sealed prefix's size and last hash, read once per instance: the sealer is their only writer
   * (commitSeals), and a failed write resets the object and this memory with it.
   */
  private sealedHead: { size: number; hash: string | null } | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /** The seq the next entry gets: entries are numbered from 1. */
  nextSeq(): number {
    const row = this.sql.exec<{ seq: number | null }>(`SELECT max(seq) AS seq FROM audit_entries`).toArray()[0];
    return (row?.seq ?? 0) + 1;
  }

  append(seq: number, entry: string): void {
    this.sql.exec(`INSERT INTO audit_entries (seq, entry) VALUES (?, ?)`, seq, entry);
  }

  treeSize(): number {
    return this.head().size;
  }

  /** The hash of the last sealed entry (null for an empty tree, or one erased by tampering). */
  sealedHash(): string | null {
    return this.head().hash;
  }

  private head(): { size: number; hash: string | null } {
    if (this.sealedHead === null) {
      const row = this.sql.exec<{ v: string }>(`SELECT v FROM meta WHERE k = 'audit_tree_size'`).toArray()[0];
      const size = row ? Number(row.v) : 0;
      this.sealedHead = { size, hash: size === 0 ? null : this.hashAt(size) };
    }
    return this.sealedHead;
  }

  /** Rows after the sealed prefix, in seq order. */
  unsealed(limit: number): Array<{ seq: number; entry: string }> {
    return this.sql
      .exec<{ seq: number; entry: string }>(`SELECT seq, entry FROM audit_entries WHERE seq > ? ORDER BY seq LIMIT ?`, this.treeSize(), limit)
      .toArray();
  }

  hasUnsealed(): boolean {
    return this.sql.exec(`SELECT 1 FROM audit_entries WHERE seq > ? LIMIT 1`, this.treeSize()).toArray().length > 0;
  }

  hashAt(seq: number): string | null {
    const row = this.sql.exec<{ hash: string | null }>(`SELECT hash FROM audit_entries WHERE seq = ?`, seq).toArray()[0];
    return row?.hash ?? null;
  }

  /**
   * The hashes, the Merkle nodes and the new tree size of a batch of sealed entries; no await
   * between the writes, so the whole batch is one commit.
   */
  commitSeals(sealed: ReadonlyArray<{ seq: number; hash: string }>, nodes: ReadonlyArray<MerkleNode & { hash: Uint8Array }>): void {
    if (sealed.length === 0) return;
    for (const { seq, hash } of sealed) this.sql.exec(`UPDATE audit_entries SET hash = ? WHERE seq = ?`, hash, seq);
    for (const node of nodes) this.put(node.level, node.index, node.hash);
    const last = sealed[sealed.length - 1]!;
    this.sql.exec(`INSERT OR REPLACE INTO meta (k, v) VALUES ('audit_tree_size', ?)`, String(last.seq));
    this.sealedHead = { size: last.seq, hash: last.hash };
  }

  get(level: number, index: number): Uint8Array | undefined {
    const row = this.sql.exec<{ hash: ArrayBuffer }>(`SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?`, level, index).toArray()[0];
    return row ? new Uint8Array(row.hash) : undefined;
  }

  put(level: number, index: number, hash: Uint8Array): void {
    this.sql.exec(`INSERT OR REPLACE INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)`, level, index, toBlob(hash));
  }

  /** Up to `limit` rows with seq > after, in seq order. */
  page(after: number, limit: number): AuditRow[] {
    return this.sql
      .exec<{ seq: number; entry: string; hash: string | null }>(`SELECT seq, entry, hash FROM audit_entries WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
      .toArray()
      .map((r) => ({ seq: r.seq, entry: r.entry, hash: r.hash }));
  }

  /**
   * The first and last seq of the entries whose `ts` is in [fromTs, toTs) (null when none): the
   * smallest contiguous range holding all of them (for an export by time; a full scan, rare).
   */
  seqRangeByTime(fromTs: number, toTs: number): { first: number; last: number } | null {
    const row = this.sql
      .exec<{ first: number | null; last: number | null }>(
        `SELECT min(seq) AS first, max(seq) AS last FROM audit_entries WHERE json_extract(entry, '$.ts') >= ? AND json_extract(entry, '$.ts') < ?`,
        fromTs,
        toTs,
      )
      .toArray()[0];
    return row?.first != null && row.last != null ? { first: row.first, last: row.last } : null;
  }

  /** The last stored row, sealed or not. */
  lastRow(): AuditRow | null {
    const row = this.sql
      .exec<{ seq: number; entry: string; hash: string | null }>(`SELECT seq, entry, hash FROM audit_entries ORDER BY seq DESC LIMIT 1`)
      .toArray()[0];
    return row ? { seq: row.seq, entry: row.entry, hash: row.hash } : null;
  }

  latestCheckpoint(): StoredCheckpoint | null {
    return toCheckpoint(this.sql.exec<CheckpointRow>(`SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1`).toArray()[0]);
  }

  latestCheckpointBelow(size: number): StoredCheckpoint | null {
    return toCheckpoint(this.sql.exec<CheckpointRow>(`SELECT * FROM audit_checkpoints WHERE size < ? ORDER BY size DESC LIMIT 1`, size).toArray()[0]);
  }

  /** Created here rather than with the other tables so that an existing log gains it on its next start. */
  migrateDenials(): void {
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS audit_denials (code TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL, first TEXT NOT NULL)`,
    );
  }

  denialWindows(): DenialWindow[] {
    return this.sql
      .exec<{ code: string; window_start: number; count: number; first: string }>(`SELECT * FROM audit_denials`)
      .toArray()
      .map((r) => ({ code: r.code, windowStart: r.window_start, count: r.count, first: r.first }));
  }

  openDenialWindow(w: DenialWindow): void {
    this.sql.exec(`INSERT OR REPLACE INTO audit_denials (code, window_start, count, first) VALUES (?, ?, ?, ?)`, w.code, w.windowStart, w.count, w.first);
  }

  countDenial(code: string): void {
    this.sql.exec(`UPDATE audit_denials SET count = count + 1 WHERE code = ?`, code);
  }

  closeDenialWindow(code: string): void {
    this.sql.exec(`DELETE FROM audit_denials WHERE code = ?`, code);
  }

  saveCheckpoint(c: StoredCheckpoint): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO audit_checkpoints (size, note, verifier_key, signed_at) VALUES (?, ?, ?, ?)`,
      c.size,
      c.note,
      c.verifierKey,
      c.signedAt,
    );
  }
}
