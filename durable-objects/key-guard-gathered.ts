import type { RateState } from "../src/policy/admission";
import type { AttributionRollup, UsageRollup } from "../src/usage/rollups";

/** Durable Object SQLite binds at most this many parameters in one statement (platform limits). */
export const MAX_BOUND_PARAMETERS = 100;

/** What `insertRows` needs of `SqlStorage` (structural, so it is testable outside workerd). */
export interface SqlExec {
  exec(query: string, ...bindings: Array<string | number | null>): unknown;
}
export type SqlRow = ReadonlyArray<string | number | null>;

/**
 * Runs `INSERT … VALUES (…), (…) <tail>` over `rows` with as few statements as the parameter
 * limit allows: a statement costs far more than a row here.
 */
export function insertRows(sql: SqlExec, head: string, tail: string, rows: readonly SqlRow[]): void {
  if (rows.length === 0) return;
  const width = rows[0]!.length;
  const perStatement = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / width));
  const placeholders = `(${Array.from({ length: width }, () => "?").join(", ")})`;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    sql.exec(`${head} VALUES ${chunk.map(() => placeholders).join(", ")} ${tail}`, ...chunk.flat());
  }
}

/**
 * The writes of several settles applied in one synchronous step (KeyGuardStore.gather), kept until
 * the step ends and then written as one statement per table: ledgers and per-user totals as the
 * rows' new values (the store's in-memory totals are authoritative), rollups summed, reservation
 * rows deleted together, the rate state once.
 */
export class GatheredWrites {
  /** Periods charged, by table. */
  readonly ledgers = { ledger: new Set<string>(), window_ledger: new Set<string>() };
  /** `${period}\n${user}` ids charged. */
  readonly users = new Set<string>();
  readonly rollups = new Map<string, UsageRollup>();
  readonly attribution = new Map<string, AttributionRollup>();
  readonly removals: string[] = [];
  rate: RateState | null = null;

  addRollup(r: UsageRollup): void {
    const id = `${r.hour}\n${r.model}`;
    const sum = this.rollups.get(id);
    this.rollups.set(id, sum ? { ...sum, ...add(sum, r) } : { ...r });
  }

  addAttribution(r: AttributionRollup): void {
    const id = `${r.hour}\n${r.kind}\n${r.value}`;
    const sum = this.attribution.get(id);
    this.attribution.set(id, sum ? { ...sum, ...add(sum, r) } : { ...r });
  }
}

type Usage = Pick<UsageRollup, "requests" | "promptTokens" | "completionTokens" | "costMicros">;

function add(a: Usage, b: Usage): Usage {
  return {
    requests: a.requests + b.requests,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    costMicros: a.costMicros + b.costMicros,
  };
}
