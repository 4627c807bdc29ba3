import type { Endpoint, KeyRecord, SettleRequest } from "../src/keys/types";
import type { RateState, Totals } from "../src/policy/admission";
import type { AttributionKind, AttributionRollup, UsageRollup as Rollup } from "../src/usage/rollups";
import { GatheredWrites, insertRows, MAX_BOUND_PARAMETERS, type SqlRow } from "./key-guard-gathered";

/**
 * The KeyGuard's SQLite storage. Every method is synchronous: several `sql.exec` calls with no
 * `await` between them commit atomically, which is what keeps a charge and its audit entry together.
 */

const SCHEMA_VERSION = 3;

const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS key_record (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ledger (period TEXT PRIMARY KEY, tokens INTEGER NOT NULL, spend_micros INTEGER NOT NULL, requests INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS reservations (request_id TEXT PRIMARY KEY, period TEXT NOT NULL, tokens INTEGER NOT NULL,
     cost_micros INTEGER NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL, stream INTEGER NOT NULL,
     admitted_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
  `DROP INDEX IF EXISTS reservations_expiry`, // was only read at start-up; cost a write on every admit and settle
  // Issue 16: the hour / day / ISO-week ledgers ("h:…", "d:…", "w:…"); months stay in `ledger`.
  `CREATE TABLE IF NOT EXISTS window_ledger (period TEXT PRIMARY KEY, tokens INTEGER NOT NULL, spend_micros INTEGER NOT NULL, requests INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS rate_state (id INTEGER PRIMARY KEY CHECK (id = 1), rpm_tat REAL NOT NULL, tpm_tat REAL NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS audit_entries (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL, hash TEXT)`,
  // v2: the sealed Merkle tree and the signed checkpoints (see key-guard-audit-store.ts).
  `CREATE TABLE IF NOT EXISTS audit_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS audit_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, verifier_key TEXT NOT NULL, signed_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS rollups (hour INTEGER NOT NULL, model TEXT NOT NULL, requests INTEGER NOT NULL,
     prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cost_micros INTEGER NOT NULL, PRIMARY KEY (hour, model))`,
  // Issue 16 attribution: pending usage per tag / end user ('' = none), flushed to D1 usage_attribution with the rollups.
  `CREATE TABLE IF NOT EXISTS attribution_rollups (hour INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, requests INTEGER NOT NULL,
     prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cost_micros INTEGER NOT NULL, PRIMARY KEY (hour, kind, value))`,
  // Per-user limits (issue 16): each end user's totals per limited window ("h:…", "d:…", "w:…", month), '' = no user id.
  `CREATE TABLE IF NOT EXISTS user_ledger (period TEXT NOT NULL, user TEXT NOT NULL, tokens INTEGER NOT NULL, spend_micros INTEGER NOT NULL,
     requests INTEGER NOT NULL, PRIMARY KEY (period, user)) WITHOUT ROWID`,
  // The distinct values rolled up per hour and kind, so their number stays bounded (ATTRIBUTION_VALUES_PER_HOUR).
  `CREATE TABLE IF NOT EXISTS attribution_seen (hour INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (hour, kind, value)) WITHOUT ROWID`,
];

/**
 * Distinct tags (and, separately, end-user ids) one key adds to the usage rollups per hour; more
 * are rolled up as OTHER_VALUE. Both are caller-controlled: without a bound an agent could create
 * rollup rows (D1 rows) without limit by sending a new value each request.
 */
export const ATTRIBUTION_VALUES_PER_HOUR = 1000;
export const OTHER_VALUE = "(other)";

export interface Reservation {
  requestId: string;
  period: string;
  tokens: number;
  costMicros: number;
  model: string;
  provider: string;
  /** Absent in rows written before the column existed: those were all chat requests. */
  endpoint: Endpoint;
  stream: boolean;
  admittedAt: number;
  expiresAt: number;
  /** The shared budget that also holds this reservation (settled there too), or null. */
  budgetId?: string | null;
  /** Attribution (bounded by the Worker): audited and rolled up when the reservation closes. */
  user?: string | null;
  tags?: string[];
  /** The per-user limits bucket it is held and charged in (the user, '' or OTHER_VALUE); null: the key had no per-user limits. */
  userBucket?: string | null;
  /** The output bound the gateway added upstream (issue 18), audited at settle; null/absent: none. */
  injectedMaxTokens?: number | null;
}

/** Window periods ("h:…", "d:…", "w:…") have their own table; months ("2026-12") are the original ledger. */
const tableOf = (period: string) => (period.includes(":") ? "window_ledger" : "ledger");

export class KeyGuardStore {
  private readonly ledgers = new Map<string, Totals & { requests: number }>();
  /** Per-user totals by `${period}\n${user}`; bounded by MAX_TRACKED_USERS per period, pruned with the windows. */
  private readonly userLedgers = new Map<string, Totals & { requests: number }>();
  /** False until `migrate`: an object that never held a record has no tables, and reads as empty. */
  private ready = false;
  /** While `gather` runs: the writes it defers to its end. */
  private gathered: GatheredWrites | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /** Whether a previous instance created the tables. A read of the schema only: it writes nothing. */
  exists(): boolean {
    return this.sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'key_record'`).toArray().length > 0;
  }

  migrate(): void {
    this.ready = true;
    for (const statement of MIGRATIONS) this.sql.exec(statement);
    // v3: the endpoint of a reservation (audited when it settles or expires). Added by ALTER so rows
    // a previous version left keep working; they were all chat requests.
    const reservationsSql = this.sql.exec<{ sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'reservations'`).one().sql;
    if (!reservationsSql.includes("endpoint")) this.sql.exec(`ALTER TABLE reservations ADD COLUMN endpoint TEXT NOT NULL DEFAULT 'chat'`);
    // The budget (issue 16) a reservation is also held in; older rows had none.
    if (!reservationsSql.includes("budget_id")) this.sql.exec(`ALTER TABLE reservations ADD COLUMN budget_id TEXT`);
    // Attribution (issue 16): the end user and the tags (JSON) of the request; older rows had none.
    if (!reservationsSql.includes("end_user")) this.sql.exec(`ALTER TABLE reservations ADD COLUMN end_user TEXT`);
    if (!reservationsSql.includes("tags")) this.sql.exec(`ALTER TABLE reservations ADD COLUMN tags TEXT`);
    if (!reservationsSql.includes("user_bucket")) this.sql.exec(`ALTER TABLE reservations ADD COLUMN user_bucket TEXT`);
    // The injected output bound (issue 18); older rows had none.
    if (!reservationsSql.includes("injected_max_tokens")) this.sql.exec(`ALTER TABLE reservations ADD COLUMN injected_max_tokens INTEGER`);
    // A carried settle the object holds before applying it (issue 17); null: none arrived yet.
    if (!reservationsSql.includes("held_settle")) this.sql.exec(`ALTER TABLE reservations ADD COLUMN held_settle TEXT`);
    this.sql.exec(`INSERT OR REPLACE INTO meta (k, v) VALUES ('schema_version', ?)`, String(SCHEMA_VERSION));
  }

  loadRecord(): KeyRecord | null {
    const row = this.sql.exec<{ record: string }>(`SELECT record FROM key_record WHERE id = 1`).toArray()[0];
    return row ? (JSON.parse(row.record) as KeyRecord) : null;
  }

  saveRecord(record: KeyRecord): void {
    this.sql.exec(`INSERT OR REPLACE INTO key_record (id, record) VALUES (1, ?)`, JSON.stringify(record));
  }

  /** A month's (or a window's, src/policy/windows.ts) totals. Read once per period and then kept in memory: every change goes through `charge`. */
  ledger(period: string): Totals & { requests: number } {
    let cached = this.ledgers.get(period);
    if (!cached && !this.ready) return { tokens: 0, spendMicros: 0, requests: 0 };
    if (!cached) {
      const row = this.sql
        .exec<{ tokens: number; spend_micros: number; requests: number }>(
          `SELECT tokens, spend_micros, requests FROM ${tableOf(period)} WHERE period = ?`,
          period,
        )
        .toArray()[0];
      cached = row ? { tokens: row.tokens, spendMicros: row.spend_micros, requests: row.requests } : { tokens: 0, spendMicros: 0, requests: 0 };
      this.ledgers.set(period, cached);
    }
    return { ...cached };
  }

  charge(period: string, tokens: number, spendMicros: number): void {
    this.chargeAll(tableOf(period), [period], tokens, spendMicros);
  }

  /** One request charged in several periods of one table (the hour, day and week windows): one statement. */
  chargeAll(table: "ledger" | "window_ledger", periods: readonly string[], tokens: number, spendMicros: number): void {
    for (const period of periods) {
      const current = this.ledger(period);
      this.ledgers.set(period, { tokens: current.tokens + tokens, spendMicros: current.spendMicros + spendMicros, requests: current.requests + 1 });
    }
    if (this.gathered) for (const period of periods) this.gathered.ledgers[table].add(period);
    else this.writeLedgers(table, periods);
  }

  /** The rows of these periods as the in-memory totals hold them (every change goes through `chargeAll`). */
  private writeLedgers(table: "ledger" | "window_ledger", periods: Iterable<string>): void {
    const rows: SqlRow[] = [];
    for (const period of periods) {
      const t = this.ledgers.get(period);
      // Pruned meanwhile: an ended window, dropped from storage as well.
      if (t) rows.push([period, t.tokens, t.spendMicros, t.requests]);
    }
    insertRows(
      this.sql,
      `INSERT INTO ${table} (period, tokens, spend_micros, requests)`,
      `ON CONFLICT (period) DO UPDATE SET tokens = excluded.tokens, spend_micros = excluded.spend_micros, requests = excluded.requests`,
      rows,
    );
  }

  /**
   * Runs `apply` (the settles of a batch, applied synchronously) with its charges, rollups,
   * reservation deletions and rate state written at its end, one statement per table instead of one
   * per settle. Nothing awaits in between, so it is the same single commit; the in-memory totals
   * that decisions read change at once as before.
   */
  gather<T>(apply: () => T): T {
    if (this.gathered) return apply();
    const gathered = (this.gathered = new GatheredWrites());
    try {
      return apply();
    } finally {
      this.gathered = null;
      this.writeGathered(gathered);
    }
  }

  private writeGathered(g: GatheredWrites): void {
    this.writeLedgers("ledger", g.ledgers.ledger);
    this.writeLedgers("window_ledger", g.ledgers.window_ledger);
    this.writeUserLedgers(g.users);
    this.writeRollups([...g.rollups.values()]);
    this.writeAttribution([...g.attribution.values()]);
    for (let i = 0; i < g.removals.length; i += MAX_BOUND_PARAMETERS) {
      const ids = g.removals.slice(i, i + MAX_BOUND_PARAMETERS);
      this.sql.exec(`DELETE FROM reservations WHERE request_id IN (${ids.map(() => "?").join(", ")})`, ...ids);
    }
    if (g.rate) this.saveRate(g.rate);
  }

  /** Drops the ledgers of ended hours, days and weeks (window keys sort by time; months are kept). */
  pruneWindows(current: Record<"h:" | "d:" | "w:", string>): void {
    if (!this.ready) return;
    for (const [prefix, key] of Object.entries(current)) this.sql.exec(`DELETE FROM window_ledger WHERE period >= ? AND period < ?`, prefix, key);
    for (const period of [...this.ledgers.keys()]) {
      const prefix = period.slice(0, 2) as keyof typeof current;
      if (prefix in current && period < current[prefix]) this.ledgers.delete(period);
    }
  }

  reservations(): Reservation[] {
    return this.sql
      .exec<{
        request_id: string;
        period: string;
        tokens: number;
        cost_micros: number;
        model: string;
        provider: string;
        endpoint: string | null;
        budget_id: string | null;
        end_user: string | null;
        tags: string | null;
        user_bucket: string | null;
        injected_max_tokens: number | null;
        stream: number;
        admitted_at: number;
        expires_at: number;
      }>(`SELECT * FROM reservations ORDER BY expires_at`)
      .toArray()
      .map((r) => ({
        requestId: r.request_id,
        period: r.period,
        tokens: r.tokens,
        costMicros: r.cost_micros,
        model: r.model,
        provider: r.provider,
        endpoint: (r.endpoint ?? "chat") as Endpoint,
        budgetId: r.budget_id,
        user: r.end_user,
        tags: r.tags ? (JSON.parse(r.tags) as string[]) : [],
        userBucket: r.user_bucket,
        injectedMaxTokens: r.injected_max_tokens,
        stream: r.stream === 1,
        admittedAt: r.admitted_at,
        expiresAt: r.expires_at,
      }));
  }

  addReservation(r: Reservation): void {
    this.sql.exec(
      `INSERT INTO reservations (request_id, period, tokens, cost_micros, model, provider, endpoint, stream, admitted_at, expires_at, budget_id, end_user, tags, injected_max_tokens, user_bucket)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.requestId,
      r.period,
      r.tokens,
      r.costMicros,
      r.model,
      r.provider,
      r.endpoint,
      r.stream ? 1 : 0,
      r.admittedAt,
      r.expiresAt,
      r.budgetId ?? null,
      r.user ?? null,
      r.tags?.length ? JSON.stringify(r.tags) : null,
      r.injectedMaxTokens ?? null,
      r.userBucket ?? null,
    );
  }

  /** One end user's charged totals in one window period (read once, then kept in memory like `ledger`). */
  userLedger(period: string, user: string): Totals & { requests: number } {
    const id = `${period}\n${user}`;
    let cached = this.userLedgers.get(id);
    if (!cached && !this.ready) return { tokens: 0, spendMicros: 0, requests: 0 };
    if (!cached) {
      const row = this.sql
        .exec<{ tokens: number; spend_micros: number; requests: number }>(
          `SELECT tokens, spend_micros, requests FROM user_ledger WHERE period = ? AND user = ?`,
          period,
          user,
        )
        .toArray()[0];
      cached = row ? { tokens: row.tokens, spendMicros: row.spend_micros, requests: row.requests } : { tokens: 0, spendMicros: 0, requests: 0 };
      this.userLedgers.set(id, cached);
    }
    return { ...cached };
  }

  chargeUser(period: string, user: string, tokens: number, spendMicros: number): void {
    const current = this.userLedger(period, user);
    const id = `${period}\n${user}`;
    this.userLedgers.set(id, {
      tokens: current.tokens + tokens,
      spendMicros: current.spendMicros + spendMicros,
      requests: current.requests + 1,
    });
    if (this.gathered) this.gathered.users.add(id);
    else this.writeUserLedgers([id]);
  }

  /** As writeLedgers, for per-user totals (ids `${period}\n${user}`). */
  private writeUserLedgers(ids: Iterable<string>): void {
    const rows: SqlRow[] = [];
    for (const id of ids) {
      const t = this.userLedgers.get(id);
      const cut = id.indexOf("\n");
      if (t) rows.push([id.slice(0, cut), id.slice(cut + 1), t.tokens, t.spendMicros, t.requests]);
    }
    insertRows(
      this.sql,
      `INSERT INTO user_ledger (period, user, tokens, spend_micros, requests)`,
      `ON CONFLICT (period, user) DO UPDATE SET tokens = excluded.tokens, spend_micros = excluded.spend_micros, requests = excluded.requests`,
      rows,
    );
  }

  /** How many end users have been charged in a window period. */
  userCount(period: string): number {
    if (!this.ready) return 0;
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM user_ledger WHERE period = ?`, period).one().n;
  }

  /** Drops the per-user totals of ended windows (`current`: each window kind's current key, months included). */
  pruneUsers(current: { "h:": string; "d:": string; "w:": string; month: string }): void {
    if (!this.ready) return;
    for (const prefix of ["h:", "d:", "w:"] as const) this.sql.exec(`DELETE FROM user_ledger WHERE period >= ? AND period < ?`, prefix, current[prefix]);
    // Month keys ("2026-12") sort before every "d:…", "h:…" and "w:…" key, so this range holds months only.
    this.sql.exec(`DELETE FROM user_ledger WHERE period < ?`, current.month);
    for (const id of [...this.userLedgers.keys()]) {
      const period = id.slice(0, id.indexOf("\n"));
      const prefix = period.slice(0, 2);
      const key = prefix === "h:" || prefix === "d:" || prefix === "w:" ? current[prefix] : current.month;
      if (period < key) this.userLedgers.delete(id);
    }
  }

  /**
   * Keeps a carried settle on its reservation's row while the object holds it unapplied (in the
   * admit's commit), so an object that restarts meanwhile applies it (`heldSettles`) instead of
   * charging the reservation's worst case when it expires. Applying it deletes the row.
   */
  holdSettle(settle: SettleRequest): void {
    this.sql.exec(`UPDATE reservations SET held_settle = ? WHERE request_id = ?`, JSON.stringify(settle), settle.requestId);
  }

  /** The settles a previous instance held and had not applied yet. */
  heldSettles(): SettleRequest[] {
    return this.sql
      .exec<{ held_settle: string }>(`SELECT held_settle FROM reservations WHERE held_settle IS NOT NULL`)
      .toArray()
      .map((r) => JSON.parse(r.held_settle) as SettleRequest);
  }

  removeReservation(requestId: string): void {
    if (this.gathered) this.gathered.removals.push(requestId);
    else this.sql.exec(`DELETE FROM reservations WHERE request_id = ?`, requestId);
  }

  loadRate(): RateState {
    const row = this.sql.exec<{ rpm_tat: number; tpm_tat: number }>(`SELECT rpm_tat, tpm_tat FROM rate_state WHERE id = 1`).toArray()[0];
    return row ? { rpmTat: row.rpm_tat, tpmTat: row.tpm_tat } : { rpmTat: 0, tpmTat: 0 };
  }

  saveRate(rate: RateState): void {
    if (this.gathered) {
      this.gathered.rate = rate;
      return;
    }
    this.sql.exec(`INSERT OR REPLACE INTO rate_state (id, rpm_tat, tpm_tat) VALUES (1, ?, ?)`, rate.rpmTat, rate.tpmTat);
  }

  addRollup(r: Rollup): void {
    if (this.gathered) this.gathered.addRollup(r);
    else this.writeRollups([r]);
  }

  private writeRollups(rollups: readonly Rollup[]): void {
    insertRows(
      this.sql,
      `INSERT INTO rollups (hour, model, requests, prompt_tokens, completion_tokens, cost_micros)`,
      `ON CONFLICT (hour, model) DO UPDATE SET requests = requests + excluded.requests,
         prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens,
         cost_micros = cost_micros + excluded.cost_micros`,
      rollups.map((r) => [r.hour, r.model, r.requests, r.promptTokens, r.completionTokens, r.costMicros]),
    );
  }

  /**
   * Adds one settled request to the pending attribution rollups: once under its end user ('' for
   * none) and once under each tag ('' for none), so each grouping sums to the key's total.
   */
  addAttribution(hour: number, user: string | null, tags: readonly string[], usage: Omit<AttributionRollup, "hour" | "kind" | "value">): void {
    const rows: AttributionRollup[] = [{ hour, kind: "user", value: this.boundedValue(hour, "user", user ?? ""), ...usage }];
    for (const tag of tags.length > 0 ? tags : [""]) rows.push({ hour, kind: "tag", value: this.boundedValue(hour, "tag", tag), ...usage });
    if (this.gathered) for (const row of rows) this.gathered.addAttribution(row);
    else this.writeAttribution(rows);
  }

  private writeAttribution(rows: readonly AttributionRollup[]): void {
    insertRows(
      this.sql,
      `INSERT INTO attribution_rollups (hour, kind, value, requests, prompt_tokens, completion_tokens, cost_micros)`,
      `ON CONFLICT (hour, kind, value) DO UPDATE SET requests = requests + excluded.requests,
         prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens,
         cost_micros = cost_micros + excluded.cost_micros`,
      rows.map((r) => [r.hour, r.kind, r.value, r.requests, r.promptTokens, r.completionTokens, r.costMicros]),
    );
  }

  /** `value`, or OTHER_VALUE once the hour already holds ATTRIBUTION_VALUES_PER_HOUR distinct values of the kind. */
  private boundedValue(hour: number, kind: AttributionKind, value: string): string {
    if (value === "") return value;
    if (this.sql.exec(`SELECT 1 FROM attribution_seen WHERE hour = ? AND kind = ? AND value = ?`, hour, kind, value).toArray().length > 0) return value;
    const seen = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM attribution_seen WHERE hour = ? AND kind = ?`, hour, kind).one().n;
    if (seen >= ATTRIBUTION_VALUES_PER_HOUR) return OTHER_VALUE;
    this.sql.exec(`INSERT INTO attribution_seen (hour, kind, value) VALUES (?, ?, ?)`, hour, kind, value);
    return value;
  }

  /** Forgets the distinct values of hours before `hour` (their rollups are final). */
  pruneAttributionSeen(hour: number): void {
    if (this.ready) this.sql.exec(`DELETE FROM attribution_seen WHERE hour < ?`, hour);
  }

  pendingAttribution(): AttributionRollup[] {
    if (!this.ready) return [];
    return this.sql
      .exec<{ hour: number; kind: string; value: string; requests: number; prompt_tokens: number; completion_tokens: number; cost_micros: number }>(
        `SELECT * FROM attribution_rollups`,
      )
      .toArray()
      .map((r) => ({
        hour: r.hour,
        kind: r.kind as AttributionKind,
        value: r.value,
        requests: r.requests,
        promptTokens: r.prompt_tokens,
        completionTokens: r.completion_tokens,
        costMicros: r.cost_micros,
      }));
  }

  clearAttribution(flushed: AttributionRollup[]): void {
    // As clearRollups: subtract what was flushed, rows may have grown during the D1 write.
    for (const r of flushed) {
      this.sql.exec(
        `UPDATE attribution_rollups SET requests = requests - ?, prompt_tokens = prompt_tokens - ?, completion_tokens = completion_tokens - ?,
           cost_micros = cost_micros - ? WHERE hour = ? AND kind = ? AND value = ?`,
        r.requests,
        r.promptTokens,
        r.completionTokens,
        r.costMicros,
        r.hour,
        r.kind,
        r.value,
      );
    }
    this.sql.exec(`DELETE FROM attribution_rollups WHERE requests <= 0`);
  }

  pendingRollups(): Rollup[] {
    return this.sql
      .exec<{ hour: number; model: string; requests: number; prompt_tokens: number; completion_tokens: number; cost_micros: number }>(`SELECT * FROM rollups`)
      .toArray()
      .map((r) => ({
        hour: r.hour,
        model: r.model,
        requests: r.requests,
        promptTokens: r.prompt_tokens,
        completionTokens: r.completion_tokens,
        costMicros: r.cost_micros,
      }));
  }

  clearRollups(flushed: Rollup[]): void {
    // Subtract what was flushed rather than deleting: rows may have grown during the D1 write.
    for (const r of flushed) {
      this.sql.exec(
        `UPDATE rollups SET requests = requests - ?, prompt_tokens = prompt_tokens - ?, completion_tokens = completion_tokens - ?,
           cost_micros = cost_micros - ? WHERE hour = ? AND model = ?`,
        r.requests,
        r.promptTokens,
        r.completionTokens,
        r.costMicros,
        r.hour,
        r.model,
      );
    }
    this.sql.exec(`DELETE FROM rollups WHERE requests <= 0`);
  }
}
