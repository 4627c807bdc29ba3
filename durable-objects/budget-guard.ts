import { DurableObject } from "cloudflare:workers";
import { loadBudget } from "../src/budgets/catalogue";
import type { BudgetRecord, BudgetReserveRequest, BudgetReserveResult, BudgetSettleRequest, BudgetUsage, WindowUsageView } from "../src/budgets/types";
import { SUB_MONTH_WINDOWS, WINDOWS, type Window, type WindowTotals, windowDenial, windowEnd, windowKey, windowStart } from "../src/policy/windows";
import { BudgetGuardStore, type BudgetReservation } from "./budget-guard-store";

/**
 * One per shared budget: the authority for its window ledgers and reservations across all member
 * keys. A member's KeyGuard first admits and reserves on its own, then calls `reserve` here; like
 * the KeyGuard's admit, `reserve` checks and writes with no await between, so concurrent requests
 * from any number of keys cannot pass a budget limit together. `settle` charges the real usage
 * (idempotent per key and request id); `release` drops a reservation the key did not use.
 */

/** A reservation no KeyGuard settled (it lost the call) is charged in full after this long: longer than the KeyGuard's own TTL. */
export const BUDGET_RESERVATION_TTL_MS = 20 * 60_000;

export class BudgetGuard extends DurableObject<Cloudflare.Env> {
  private readonly store: BudgetGuardStore;
  private record: BudgetRecord | null = null;
  private reservations = new Map<string, BudgetReservation>();
  private alarmAt: number | null = null;
  /** The clock for reservation expiry. Tests replace it through `runInDurableObject`. */
  now: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.store = new BudgetGuardStore(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      this.record = this.store.loadRecord();
      for (const r of this.store.reservations()) this.reservations.set(r.id, r);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** The budget as D1 wrote it (admin create / PATCH). Kept only if newer than the one held. */
  configure(record: BudgetRecord): BudgetUsage {
    if (!this.record || record.version > this.record.version) {
      this.record = record;
      this.store.saveRecord(record);
    }
    return this.usage();
  }

  /**
   * The budget was deleted from D1 (it had no member keys left): forget it. A key that still names
   * it (one that joined in a race with the delete) is then refused by `reserve`, never let through
   * uncapped.
   */
  retire(): void {
    this.record = null;
    this.reservations.clear();
    this.store.clear();
  }

  async reserve(req: BudgetReserveRequest): Promise<BudgetReserveResult> {
    const record = this.record ?? (await this.load(req.budgetId));
    // From here on: no await until the reservation is written.
    if (!record) return { ok: false, code: "invalid_api_key", message: "This key's budget no longer exists." };
    const id = `${req.keyId}:${req.requestId}`;
    if (this.reservations.has(id)) return { ok: true }; // a repeated call: already held
    const denial = windowDenial(record.limits, (w) => this.totals(w, req.at), req.tokens, req.costMicros, req.at, `budget '${record.name}'`);
    if (denial) return { ok: false, ...(denial as Omit<Extract<BudgetReserveResult, { ok: false }>, "ok">) };
    const reservation: BudgetReservation = {
      id,
      keyId: req.keyId,
      tokens: req.tokens,
      costMicros: req.costMicros,
      admittedAt: req.at,
      expiresAt: this.now() + BUDGET_RESERVATION_TTL_MS,
    };
    this.store.addReservation(reservation);
    this.reservations.set(id, reservation);
    this.scheduleAlarm(reservation.expiresAt);
    return { ok: true };
  }

  /** Charges the real usage in the windows of the admission; a repeat or unknown id is a no-op. */
  settle(req: BudgetSettleRequest): { settled: boolean } {
    const reservation = this.reservations.get(`${req.keyId}:${req.requestId}`);
    if (!reservation) return { settled: false };
    this.close(reservation, req.tokens, req.costMicros);
    return { settled: true };
  }

  /** A KeyGuard's batch of settles in one turn (one commit). */
  settleMany(requests: BudgetSettleRequest[]): Array<{ settled: boolean }> {
    return requests.map((req) => this.settle(req));
  }

  /** Drops a reservation without charging it (the key denied or failed after the budget admitted). */
  release(keyId: string, requestId: string): { released: boolean } {
    const id = `${keyId}:${requestId}`;
    if (!this.reservations.delete(id)) return { released: false };
    this.store.removeReservation(id);
    return { released: true };
  }

  usage(): BudgetUsage {
    const now = this.now();
    const limits = this.record?.limits ?? [];
    const windows: WindowUsageView[] = [];
    const members: BudgetUsage["members"] = {};
    for (const window of WINDOWS) {
      const limit = limits.find((l) => l.window === window);
      const period = windowKey(window, now);
      const used = this.store.total(period);
      const reserved = this.reservedIn(window, now);
      windows.push({
        window,
        period_end: new Date(windowEnd(window, now)).toISOString(),
        tokens: used.tokens,
        spend_usd: used.spendMicros / 1_000_000,
        requests: used.requests,
        reserved_tokens: reserved.tokens,
        reserved_usd: reserved.spendMicros / 1_000_000,
        reserved_requests: reserved.requests,
        limit: limit
          ? { tokens: limit.tokens ?? null, usd: limit.usdMicros == null ? null : limit.usdMicros / 1_000_000, requests: limit.requests ?? null }
          : null,
      });
      for (const [keyId, t] of this.store.members(period)) {
        (members[keyId] ??= []).push({ window, tokens: t.tokens, spend_usd: t.spendMicros / 1_000_000, requests: t.requests });
      }
    }
    return { windows, members };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = this.now();
    for (const reservation of [...this.reservations.values()]) {
      // The KeyGuard never settled it (its call was lost): charge the whole worst case, never less.
      if (reservation.expiresAt <= now) this.close(reservation, reservation.tokens, reservation.costMicros);
    }
    this.store.prune({ "h:": windowKey("1h", now), "d:": windowKey("1d", now), "w:": windowKey("7d", now) });
    const next = Math.min(...[...this.reservations.values()].map((r) => r.expiresAt));
    if (Number.isFinite(next)) this.scheduleAlarm(next);
  }

  private close(reservation: BudgetReservation, tokens: number, costMicros: number): void {
    this.reservations.delete(reservation.id);
    this.store.removeReservation(reservation.id);
    const periods = [...SUB_MONTH_WINDOWS, "month" as const].map((w) => windowKey(w, reservation.admittedAt));
    this.store.charge(periods, reservation.keyId, tokens, costMicros);
    // Ended windows are dropped now and then, from the alarm; one a day is plenty.
    this.scheduleAlarm(this.now() + 24 * 3_600_000);
  }

  /** Charged + reserved in the window holding `at`, with in-flight requests counted as requests. */
  private totals(window: Window, at: number): WindowTotals {
    const used = this.store.total(windowKey(window, at));
    const reserved = this.reservedIn(window, at);
    return { tokens: used.tokens + reserved.tokens, spendMicros: used.spendMicros + reserved.spendMicros, requests: used.requests + reserved.requests };
  }

  private reservedIn(window: Window, at: number): WindowTotals {
    const start = windowStart(window, at);
    const end = windowEnd(window, at);
    const sum: WindowTotals = { tokens: 0, spendMicros: 0, requests: 0 };
    for (const r of this.reservations.values()) {
      if (r.admittedAt < start || r.admittedAt >= end) continue;
      sum.tokens += r.tokens;
      sum.spendMicros += r.costMicros;
      sum.requests += 1;
    }
    return sum;
  }

  private async load(id: string): Promise<BudgetRecord | null> {
    const record = await loadBudget(this.env.DB, id);
    if (record) this.configure(record);
    return this.record;
  }

  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    // By delay, like the KeyGuard: a driven clock must not set an alarm in the wall-clock past.
    void this.ctx.storage.setAlarm(Date.now() + Math.max(0, at - this.now()));
  }
}
