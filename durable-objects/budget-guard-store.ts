import type { BudgetRecord } from "../src/budgets/types";
import type { WindowTotals } from "../src/policy/windows";

/**
 * The BudgetGuard's SQLite storage. Synchronous, like the KeyGuard's: a charge of the budget's
 * window ledgers, of the member's ledgers and the removal of the reservation commit together.
 */

const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS budget_record (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL)`,
  // key_id '' is the budget's total; other rows are one member key's share (for the admin view).
  `CREATE TABLE IF NOT EXISTS ledger (period TEXT NOT NULL, key_id TEXT NOT NULL, tokens INTEGER NOT NULL, spend_micros INTEGER NOT NULL,
     requests INTEGER NOT NULL, PRIMARY KEY (period, key_id)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, key_id TEXT NOT NULL, tokens INTEGER NOT NULL, cost_micros INTEGER NOT NULL,
     admitted_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
];

export interface BudgetReservation {
  /** `<key id>:<request id>`: request ids are unique per key, not across keys. */
  id: string;
  keyId: string;
  tokens: number;
  costMicros: number;
  admittedAt: number;
  expiresAt: number;
}

const TOTAL = "";

export class BudgetGuardStore {
  /** The budget's totals per window key, read once and then kept in memory (every change goes through `charge`). */
  private readonly totals = new Map<string, WindowTotals>();

  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    for (const statement of MIGRATIONS) this.sql.exec(statement);
  }

  /** Forgets everything (the budget was deleted): record, ledgers, reservations. */
  clear(): void {
    for (const table of ["budget_record", "ledger", "reservations"]) this.sql.exec(`DELETE FROM ${table}`);
    this.totals.clear();
  }

  loadRecord(): BudgetRecord | null {
    const row = this.sql.exec<{ record: string }>(`SELECT record FROM budget_record WHERE id = 1`).toArray()[0];
    return row ? (JSON.parse(row.record) as BudgetRecord) : null;
  }

  saveRecord(record: BudgetRecord): void {
    this.sql.exec(`INSERT OR REPLACE INTO budget_record (id, record) VALUES (1, ?)`, JSON.stringify(record));
  }

  /** The budget's charged totals in one window. */
  total(period: string): WindowTotals {
    let cached = this.totals.get(period);
    if (!cached) {
      cached = this.read(period, TOTAL);
      this.totals.set(period, cached);
    }
    return { ...cached };
  }

  /** Every member's charged totals in one window (admin view, not the hot path). */
  members(period: string): Map<string, WindowTotals> {
    const rows = this.sql
      .exec<{ key_id: string; tokens: number; spend_micros: number; requests: number }>(
        `SELECT key_id, tokens, spend_micros, requests FROM ledger WHERE period = ? AND key_id != ''`,
        period,
      )
      .toArray();
    return new Map(rows.map((r) => [r.key_id, { tokens: r.tokens, spendMicros: r.spend_micros, requests: r.requests }]));
  }

  /** Charges the budget's and the member's ledgers of each window key. */
  charge(periods: string[], keyId: string, tokens: number, spendMicros: number): void {
    for (const period of periods) {
      const current = this.total(period);
      this.totals.set(period, { tokens: current.tokens + tokens, spendMicros: current.spendMicros + spendMicros, requests: current.requests + 1 });
      for (const who of [TOTAL, keyId]) {
        this.sql.exec(
          `INSERT INTO ledger (period, key_id, tokens, spend_micros, requests) VALUES (?, ?, ?, ?, 1)
           ON CONFLICT (period, key_id) DO UPDATE SET tokens = tokens + excluded.tokens,
             spend_micros = spend_micros + excluded.spend_micros, requests = requests + 1`,
          period,
          who,
          tokens,
          spendMicros,
        );
      }
    }
  }

  /** Drops the ledgers of ended hours, days and weeks (months are kept, like the KeyGuard's). */
  prune(current: Record<"h:" | "d:" | "w:", string>): void {
    for (const [prefix, key] of Object.entries(current)) {
      this.sql.exec(`DELETE FROM ledger WHERE period >= ? AND period < ?`, prefix, key);
    }
    for (const period of [...this.totals.keys()]) {
      const prefix = period.slice(0, 2) as keyof typeof current;
      if (prefix in current && period < current[prefix]) this.totals.delete(period);
    }
  }

  reservations(): BudgetReservation[] {
    return this.sql
      .exec<{ id: string; key_id: string; tokens: number; cost_micros: number; admitted_at: number; expires_at: number }>(`SELECT * FROM reservations`)
      .toArray()
      .map((r) => ({ id: r.id, keyId: r.key_id, tokens: r.tokens, costMicros: r.cost_micros, admittedAt: r.admitted_at, expiresAt: r.expires_at }));
  }

  addReservation(r: BudgetReservation): void {
    this.sql.exec(
      `INSERT INTO reservations (id, key_id, tokens, cost_micros, admitted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
      r.id,
      r.keyId,
      r.tokens,
      r.costMicros,
      r.admittedAt,
      r.expiresAt,
    );
  }

  removeReservation(id: string): void {
    this.sql.exec(`DELETE FROM reservations WHERE id = ?`, id);
  }

  private read(period: string, keyId: string): WindowTotals {
    const row = this.sql
      .exec<{ tokens: number; spend_micros: number; requests: number }>(
        `SELECT tokens, spend_micros, requests FROM ledger WHERE period = ? AND key_id = ?`,
        period,
        keyId,
      )
      .toArray()[0];
    return row ? { tokens: row.tokens, spendMicros: row.spend_micros, requests: row.requests } : { tokens: 0, spendMicros: 0, requests: 0 };
  }
}
