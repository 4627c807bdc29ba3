import type { KeyStatus } from "./types";

/**
 * The ProviderPool Durable Object's SQLite storage: per-key health and a change counter. Only
 * health lives here; the keys themselves are D1's (the catalogue) and are re-read from there.
 * All calls are synchronous, so a sequence of them without an `await` commits atomically.
 */

const SCHEMA_VERSION = 1;

/** Migrations by target version. `PRAGMA user_version` is unsupported in DOs, hence the meta row. */
const MIGRATIONS: Record<number, string[]> = {
  1: [
    `CREATE TABLE IF NOT EXISTS health (
       key_id TEXT PRIMARY KEY,
       status TEXT NOT NULL CHECK (status IN ('healthy', 'cooling_down', 'disabled')),
       cooldown_until INTEGER,
       updated_at INTEGER NOT NULL
     )`,
  ],
};

export interface HealthRow {
  status: KeyStatus;
  cooldownUntil: number | null;
}

type Row = { key_id: string; status: KeyStatus; cooldown_until: number | null };

export class HealthStore {
  constructor(private readonly sql: SqlStorage) {
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    for (let v = this.meta("schema_version") + 1; v <= SCHEMA_VERSION; v++) {
      for (const statement of MIGRATIONS[v] ?? []) this.sql.exec(statement);
      this.setMeta("schema_version", v);
    }
  }

  private meta(name: string): number {
    const row = this.sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = ?", name).toArray()[0];
    return row?.value ?? 0;
  }

  private setMeta(name: string, value: number): void {
    this.sql.exec("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", name, value);
  }

  /** The pool's change counter; persisted so it keeps increasing across restarts. */
  get version(): number {
    return this.meta("pool_version");
  }

  bumpVersion(): number {
    const next = this.version + 1;
    this.setMeta("pool_version", next);
    return next;
  }

  all(): Map<string, HealthRow> {
    const rows = this.sql.exec<Row>("SELECT key_id, status, cooldown_until FROM health").toArray();
    return new Map(rows.map((r) => [r.key_id, { status: r.status, cooldownUntil: r.cooldown_until }]));
  }

  get(keyId: string): HealthRow | null {
    const row = this.sql.exec<Row>("SELECT key_id, status, cooldown_until FROM health WHERE key_id = ?", keyId).toArray()[0];
    return row ? { status: row.status, cooldownUntil: row.cooldown_until } : null;
  }

  put(keyId: string, row: HealthRow, now: number): void {
    this.sql.exec(
      `INSERT INTO health (key_id, status, cooldown_until, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(key_id) DO UPDATE SET status = excluded.status, cooldown_until = excluded.cooldown_until,
       updated_at = excluded.updated_at`,
      keyId,
      row.status,
      row.cooldownUntil,
      now,
    );
  }

  /** Drops the health of keys that no longer exist, so a re-created id starts healthy. */
  retain(keyIds: readonly string[]): void {
    const keep = new Set(keyIds);
    for (const id of this.all().keys()) {
      if (!keep.has(id)) this.sql.exec("DELETE FROM health WHERE key_id = ?", id);
    }
  }
}
