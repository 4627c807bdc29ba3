import { DurableObject } from "cloudflare:workers";
import { activateKeyRecord, loadKeyRecord } from "../src/keys/catalogue";
import type { AdmitRequest, AdmitResult, DenialCode, KeyRecord, KeyUsage, RateLimitInfo, SettleRequest } from "../src/keys/types";
import type { BudgetSettleRequest } from "../src/budgets/types";
import { decideAdmission, identityDenial, peekRateInfo, type RateState, type Totals } from "../src/policy/admission";
import { gcraRefund } from "../src/policy/gcra";
import { SUB_MONTH_WINDOWS, type Window, type WindowTotals, windowEnd, windowKey, windowStart } from "../src/policy/windows";
import { hourOf, periodOf } from "../src/policy/period";
import { flushRollups } from "../src/usage/rollups";
import { statusOf } from "../src/errors";
import { logError } from "../src/lib/log";
import { UNKNOWN_KEY_TTL_MS } from "../src/keys/unknown-keys";
import type { PolicyEvent } from "../src/keys/policy-diff";
import { matchSecret } from "../src/keys/rotation";
import { KeyGuardStore, type Reservation } from "./key-guard-store";
import { AuditLog, AuditUnavailable, auditFailure, type AdminFields, type AuditEnv, type AuditFailure, type AuditPageResult } from "./key-guard-audit";
import { AuditStore } from "./key-guard-audit-store";
import { AuditCheckpoints, type AuditCheckpointResult, type AuditRange, type AuditReportResult } from "./key-guard-checkpoints";
import { keyExpiredOnce, limitAlerts } from "./key-guard-alerts";
import { chargeUser, perUserDenial, userBucket } from "./key-guard-users";
import { claimControlPlaneSeq, expiryEntry, fetchPolicyHistory, historyEntries, historyPending } from "./key-guard-history";

/** A reservation that never settles (the isolate died) is charged and audited after this long. */
export const RESERVATION_TTL_MS = 15 * 60_000;
/**
 * Carried settles an admit did not need wait at most this long, off every request's path, so the
 * settles of one busy key are applied (and their audit entries sealed) a batch per turn and commit
 * rather than one turn each. Waiting costs no accuracy: a decision that would refuse, a read of usage
 * or of the audit log and the alarm apply them first, and each is kept on its reservation's row until
 * applied (KeyGuardStore.holdSettle), so a restart loses none. What lags by up to this long: audit
 * timestamps (an entry is stamped when it is applied), the tokens-remaining header and alerts.
 */
const SETTLE_DEFER_MS = 100;
/** This many waiting are applied SETTLE_DEFER_SOON_MS later instead: bounds the object's turn that applies them. */
const SETTLE_DEFER_BATCH = 8;
/** Past the admit that carried them (whose response waits for its commit), in a turn of their own. */
const SETTLE_DEFER_SOON_MS = 5;
/**
 * How often a warm KeyGuard compares its record with D1, in the background after a request: an admin
 * change whose push was lost (or any other divergence) heals within this long of the key's next use.
 * Also once after every cold start. The request itself never waits for D1.
 */
export const RECORD_RECHECK_MS = 5 * 60_000;
/** Pending usage rollups reach D1 at most this long after the request (env ROLLUP_FLUSH_MS). */
const DEFAULT_ROLLUP_FLUSH_MS = 60_000;

type AuditStatus = number | "expired";

/**
 * One per virtual key: the authority for its policy, monthly ledger, reservations, rate limits and
 * audit log. `admit` and `settle` run synchronously inside the object (no await between the check and
 * the write), so concurrent requests are serialised and can never pass a cap together. The audit
 * entry is written in that same synchronous step; its chain hash and Merkle nodes follow
 * asynchronously and deterministically (key-guard-audit.ts), and checkpoints are signed by the alarm
 * or on demand (key-guard-checkpoints.ts).
 */
export class KeyGuard extends DurableObject<Cloudflare.Env> {
  private readonly store: KeyGuardStore;
  private record: KeyRecord | null = null;
  private recordLoad: Promise<KeyRecord | null> | null = null;
  /** Storage is opened (tables created, state loaded) with the first record, never before. */
  private opened = false;
  /** Until then, this id is known to have no key record (no D1 query); see src/keys/unknown-keys.ts. */
  private unknownUntil = 0;
  /** When the record was last read from D1 (0: not since this instance started). */
  private recordCheckedAt = 0;
  private recordCheck: Promise<void> | null = null;
  private rate: RateState = { rpmTat: 0, tpmTat: 0 };
  private reservations = new Map<string, Reservation>();
  private alarmAt: number | null = null;
  private deferredSettles: SettleRequest[] = [];
  private deferTimer: ReturnType<typeof setTimeout> | null = null;
  /** Whether deferTimer is the SETTLE_DEFER_SOON_MS one. */
  private deferSoon = false;
  /** The audit log; public so tests can hold its sealer (`auditLog.paused`). */
  readonly auditLog: AuditLog;
  private readonly checkpoints: AuditCheckpoints;

  /** The clock. Tests replace it through `runInDurableObject` to drive time without sleeping. */
  now: () => number = () => Date.now();
  /** Audit secrets and vars. Tests replace it through `runInDurableObject` to rotate or remove keys. */
  auditEnv: AuditEnv;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.store = new KeyGuardStore(ctx.storage.sql);
    this.auditEnv = env;
    const auditStore = new AuditStore(ctx.storage.sql);
    const keyId = () => this.record?.id ?? null;
    this.auditLog = new AuditLog(auditStore, () => this.auditEnv, keyId);
    this.checkpoints = new AuditCheckpoints(auditStore, this.auditLog, () => this.auditEnv, keyId);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      // An object that never held a record (a forged token's id) has no tables and creates none.
      if (this.store.exists()) this.open();
    });
  }

  /** Creates the tables and loads what a previous instance left: at start-up, or with the first record. */
  private open(): void {
    if (this.opened) return;
    this.opened = true;
    this.store.migrate();
    this.record = this.store.loadRecord();
    this.rate = this.store.loadRate();
    for (const r of this.store.reservations()) this.reservations.set(r.requestId, r);
    // Settles a previous instance held but had not applied: applied as if carried just now.
    const held = this.store.heldSettles();
    if (held.length > 0) this.deferSettles(held, false);
    // Rows a previous instance appended but did not seal are sealed now (after this block).
    this.auditLog.load();
    // Denial windows a previous instance left open are flushed by the alarm when their minute is over.
    if (this.auditLog.nextDenialFlush !== null) this.scheduleAlarm(this.auditLog.nextDenialFlush);
    this.checkpoints.load(this.now());
    if (this.checkpoints.nextDue !== null) this.scheduleAlarm(this.checkpoints.nextDue);
  }

  /**
   * The key's record as D1 wrote it (admin push, cold load, re-check). Applied only if its version is
   * newer than the one held, so pushes that arrive out of order cannot undo a later write (a revoke).
   * Effective for the next admit.
   */
  async configure(record: KeyRecord, event?: PolicyEvent): Promise<KeyUsage> {
    // A push during the key's first load waits for it, so the history copied there comes first.
    if (this.recordLoad) await this.recordLoad.catch(() => null);
    return this.applyRecord(record, event);
  }

  private applyRecord(record: KeyRecord, event?: PolicyEvent): KeyUsage {
    this.open();
    if (!this.record || versionOf(record) > versionOf(this.record)) {
      this.record = record;
      this.store.saveRecord(record);
      // The key's policy history, in the same synchronous step as the record it describes.
      if (event) this.recordPolicy(record.id, event);
    }
    return this.usage();
  }

  private recordPolicy(keyId: string, event: PolicyEvent): void {
    // Already in the log when copied from the control-plane log at first use (key-guard-history.ts).
    if (!claimControlPlaneSeq(this.ctx, event.cpSeq)) return;
    this.appendAdmin({
      logId: keyId,
      ts: this.now(),
      requestId: event.requestId,
      actor: event.actor,
      action: event.action,
      target: `key:${keyId}`,
      change: event.change,
      ...(event.cpSeq === undefined ? {} : { refSeq: event.cpSeq }),
    });
  }

  /** The key's policy history from before its first use (null: the fetch failed; retried later). */
  private appendHistory(record: KeyRecord, history: Awaited<ReturnType<typeof fetchPolicyHistory>>): void {
    for (const entry of historyEntries(this.ctx, record, history)) this.appendAdmin(entry);
  }

  private async retryHistory(): Promise<void> {
    if (!this.record || !historyPending(this.ctx)) return;
    const history = await fetchPolicyHistory(this.env, this.record.id);
    if (this.record) this.appendHistory(this.record, history);
  }

  private appendAdmin(fields: AdminFields): void {
    // Requests that ended before this change are logged before it.
    this.applyDeferredSettles();
    this.auditLog.appendAdmin(fields);
    const due = this.checkpoints.noteGrowth(this.now());
    if (due !== null) this.scheduleAlarm(due);
  }

  /** `key.expire` in the key's log the first time it is seen expired (key-guard-history.ts). */
  private recordExpiry(record: KeyRecord, requestId: string): void {
    const entry = expiryEntry(this.ctx, record, this.now(), requestId);
    if (entry) this.appendAdmin(entry);
  }

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const record = this.heldRecord() ?? (await this.ensureRecord(req.keyId));
    // From here on: no await until the decision is written.
    // Settles of earlier requests carried by this admit (src/proxy/settle-batch.ts) wait, off this
    // request's path, unless a decision needs them first (deferSettles). A budget's reservations are
    // released by their settles: a member key applies them at once.
    if (record && !record.budgetId) {
      if (req.settles?.length) this.deferSettles(req.settles, true);
    } else {
      if (req.settles?.length) this.deferredSettles.push(...req.settles);
      this.applyDeferredSettles();
    }
    return this.decideAndReserve(record, req);
  }

  private async decideAndReserve(record: KeyRecord | null, req: AdmitRequest): Promise<AdmitResult> {
    if (!record) return { ok: false, code: "invalid_api_key", message: "Invalid API key.", rate: {}, unknownKey: true };
    const refused = secretDenial(record, req.secretHash, this.now());
    if (refused) return { ok: false, ...refused, rate: {} };
    const now = this.now();
    const period = periodOf(now);
    const perUser = record.perUserLimits ?? [];
    for (;;) {
      const decision = decideAdmission(record, this.store.ledger(period), this.reservedIn(period), this.rate, req, now, (w) => this.windowTotals(w, now));
      if (!decision.ok) {
        // Refused with earlier requests' worst cases still reserved: decide again on their real usage.
        if (this.applyDeferredSettles()) continue;
        if (decision.code === "key_expired") {
          keyExpiredOnce(this.ctx, this.env, record, now);
          this.recordExpiry(record, req.requestId);
        }
        if (decision.code !== "key_revoked" && decision.code !== "key_expired") {
          this.recordDenial(record.id, now, req, decision.code);
        }
        return refusal(decision, decision.info);
      }
      // Per-user limits within the key: same synchronous step, same worst case (key-guard-users.ts).
      const bucket = perUser.length > 0 ? userBucket(this.store, this.reservations.values(), perUser, req.user ?? null, now) : null;
      const userDenied =
        bucket === null ? null : perUserDenial(this.store, this.reservations.values(), perUser, bucket, decision.grant.tokens, decision.grant.costMicros, now);
      if (userDenied) {
        if (this.applyDeferredSettles()) continue;
        this.recordDenial(record.id, now, req, userDenied.code);
        return refusal(userDenied, decision.info);
      }
      return this.reserve(record, req, decision, bucket, now, period);
    }
  }

  private async reserve(
    record: KeyRecord,
    req: AdmitRequest,
    decision: Extract<ReturnType<typeof decideAdmission>, { ok: true }>,
    bucket: string | null,
    now: number,
    period: string,
  ): Promise<AdmitResult> {
    const reservation: Reservation = {
      requestId: req.requestId,
      period,
      tokens: decision.grant.tokens,
      costMicros: decision.grant.costMicros,
      model: req.model,
      provider: req.provider,
      endpoint: req.endpoint ?? "chat",
      stream: req.stream,
      admittedAt: now,
      expiresAt: now + RESERVATION_TTL_MS,
      budgetId: record.budgetId ?? null,
      user: req.user ?? null,
      tags: req.tags ?? [],
      userBucket: bucket,
      // Issue 18: the output bound the gateway added, audited at settle.
      injectedMaxTokens: decision.grant.injectMaxTokens,
    };
    const rateBefore = this.rate;
    this.rate = decision.grant.rate;
    this.store.saveRate(this.rate);
    this.store.addReservation(reservation);
    this.reservations.set(req.requestId, reservation);
    this.scheduleAlarm(reservation.expiresAt);
    // A key in a shared budget: the key's own checks passed and its reservation is written (so its
    // limits stay exact while we wait); now the budget's BudgetGuard checks and reserves across all
    // its member keys. Keys without a budget never make this call.
    if (reservation.budgetId) {
      const denial = await this.reserveInBudget(reservation, rateBefore);
      if (denial) {
        this.recordDenial(record.id, now, req, denial.code);
        return { ...denial, rate: decision.info };
      }
    }
    return { ok: true, injectMaxTokens: decision.grant.injectMaxTokens, rate: decision.info };
  }

  /**
   * Reserves `reservation` in its budget; on a denial (or a failed call) releases the key's own
   * reservation and gives back the rate-limit units it took, so a refused request costs nothing.
   */
  private async reserveInBudget(reservation: Reservation, rateBefore: RateState): Promise<Extract<AdmitResult, { ok: false }> | null> {
    const budget = this.env.BUDGET_GUARD.getByName(reservation.budgetId as string);
    const release = () => {
      if (!this.reservations.delete(reservation.requestId)) return;
      this.store.removeReservation(reservation.requestId);
      const record = this.record;
      // Give back what this request took from the GCRA buckets (no-op if later requests moved them on).
      const now = this.now();
      this.rate = {
        rpmTat: record?.rpm != null && this.rate.rpmTat > rateBefore.rpmTat ? gcraRefund(this.rate.rpmTat, now, record.rpm, 1) : this.rate.rpmTat,
        tpmTat:
          record?.tpm != null && this.rate.tpmTat > rateBefore.tpmTat ? gcraRefund(this.rate.tpmTat, now, record.tpm, reservation.tokens) : this.rate.tpmTat,
      };
      this.store.saveRate(this.rate);
    };
    try {
      const verdict = await budget.reserve({
        budgetId: reservation.budgetId as string,
        keyId: this.record?.id ?? "",
        requestId: reservation.requestId,
        tokens: reservation.tokens,
        costMicros: reservation.costMicros,
        at: reservation.admittedAt,
      });
      if (verdict.ok) return null;
      release();
      return refusal(verdict, {});
    } catch (error) {
      release();
      // The budget may hold it if only the answer was lost: release there too (best effort; else its TTL charges it).
      this.ctx.waitUntil(budget.release(this.record?.id ?? "", reservation.requestId).catch(() => undefined));
      throw error;
    }
  }

  /** The key's used + reserved totals in the window holding `now` (requests in flight count as requests). */
  private windowTotals(window: Window, now: number): WindowTotals {
    const used = this.store.ledger(windowKey(window, now));
    const start = windowStart(window, now);
    const end = windowEnd(window, now);
    let { tokens, spendMicros, requests } = used;
    for (const r of this.reservations.values()) {
      if (r.admittedAt < start || r.admittedAt >= end) continue;
      tokens += r.tokens;
      spendMicros += r.costMicros;
      requests += 1;
    }
    return { tokens, spendMicros, requests };
  }

  /** Releases the reservation and charges the real usage (in its budget too); a repeat or unknown id is a no-op. */
  async settle(req: SettleRequest): Promise<{ settled: boolean }> {
    return (await this.settleMany([req]))[0]!;
  }

  /**
   * A batch of settles (src/proxy/settle-batch.ts) in one turn: every charge, audit append and
   * rollup is written synchronously (the charges and rollups one statement per table for the whole
   * batch: KeyGuardStore.gather), so the batch is one commit and one seal; the budget charges go
   * out as one call per budget after it.
   */
  async settleMany(requests: SettleRequest[]): Promise<Array<{ settled: boolean }>> {
    const budgets = new Map<string, BudgetSettleRequest[]>();
    const results = this.store.gather(() => {
      // The settles held from earlier admits first: the log keeps the order the settles arrived in.
      this.applyDeferredSettles();
      return requests.map((req) => ({ settled: this.settleOne(req, budgets) }));
    });
    // Off any request's path: sealed now, in this turn's commit, rather than in a turn of its own.
    void this.auditLog.seal();
    await Promise.all([...budgets].map(([budgetId, charges]) => this.settleInBudget(budgetId, charges)));
    return results;
  }

  /**
   * Carried settles are applied SETTLE_DEFER_MS later (sooner once SETTLE_DEFER_BATCH wait) in a turn
   * of their own, sealed in that same turn (one commit), or at once by whatever needs them: a decision
   * that would refuse, a budget member's admit, a read of usage or of the audit log, an admin entry,
   * another batch of settles, the alarm. Each is kept on its reservation's row meanwhile (`hold`;
   * false for those already there), so a restart in between applies them rather than losing them.
   */
  private deferSettles(requests: SettleRequest[], hold: boolean): void {
    for (const settle of requests) {
      // An unknown or already-settled id is a no-op when applied: nothing to keep.
      if (hold && this.reservations.has(settle.requestId)) this.store.holdSettle(settle);
      this.deferredSettles.push(settle);
    }
    const soon = this.deferredSettles.length >= SETTLE_DEFER_BATCH;
    // A long wait is cut short once the batch is full; a short one is never pushed back.
    if (soon && this.deferTimer !== null && !this.deferSoon) {
      clearTimeout(this.deferTimer);
      this.deferTimer = null;
    }
    if (this.deferTimer !== null) return;
    this.deferSoon = soon;
    this.deferTimer = setTimeout(
      () => {
        this.deferTimer = null;
        if (this.applyDeferredSettles()) void this.auditLog.seal();
      },
      soon ? SETTLE_DEFER_SOON_MS : SETTLE_DEFER_MS,
    );
  }

  /** Applies every deferred settle now, in this turn (their budget charges go out without holding it); false when there was none. */
  private applyDeferredSettles(): boolean {
    if (this.deferredSettles.length === 0) return false;
    const budgets = new Map<string, BudgetSettleRequest[]>();
    const requests = this.deferredSettles.splice(0);
    this.store.gather(() => requests.forEach((req) => this.settleOne(req, budgets)));
    for (const [budgetId, charges] of budgets) this.ctx.waitUntil(this.settleInBudget(budgetId, charges));
    return true;
  }

  private settleOne(req: SettleRequest, budgets: Map<string, BudgetSettleRequest[]>): boolean {
    const reservation = this.reservations.get(req.requestId);
    if (!reservation || !this.record) return false;
    const now = this.now();
    const tokens = req.promptTokens + req.completionTokens;
    this.close(reservation, tokens, req.costMicros);
    if (reservation.budgetId) {
      const charges = budgets.get(reservation.budgetId) ?? [];
      charges.push({ keyId: this.record.id, requestId: reservation.requestId, tokens, costMicros: req.costMicros });
      budgets.set(reservation.budgetId, charges);
    }
    if (this.record.tpm !== null && reservation.tokens > tokens) {
      this.rate = { ...this.rate, tpmTat: gcraRefund(this.rate.tpmTat, now, this.record.tpm, reservation.tokens - tokens) };
      this.store.saveRate(this.rate);
    }
    this.recordAudit(this.record.id, now, reservation, req.status, req.promptTokens, req.completionTokens, req.costMicros, req.latencyMs);
    this.store.addRollup({
      hour: hourOf(now),
      model: reservation.model,
      requests: 1,
      promptTokens: req.promptTokens,
      completionTokens: req.completionTokens,
      costMicros: req.costMicros,
    });
    this.store.addAttribution(hourOf(now), reservation.user ?? null, reservation.tags ?? [], {
      requests: 1,
      promptTokens: req.promptTokens,
      completionTokens: req.completionTokens,
      costMicros: req.costMicros,
    });
    this.scheduleAlarm(now + this.rollupFlushMs());
    return true;
  }

  /** Charges settled reservations in their budget (idempotent there); a failed call is charged in full by the budget's TTL. */
  private async settleInBudget(budgetId: string, charges: BudgetSettleRequest[]): Promise<void> {
    try {
      await this.env.BUDGET_GUARD.getByName(budgetId).settleMany(charges);
    } catch (error) {
      logError("budget settle failed", { key_id: this.record?.id ?? "", budget_id: budgetId, requests: charges.length, error: String(error) });
    }
  }

  usage(): KeyUsage {
    this.applyDeferredSettles();
    const period = periodOf(this.now());
    const ledger = this.store.ledger(period);
    const reserved = this.reservedIn(period);
    return {
      period,
      tokens: ledger.tokens,
      spend_usd: ledger.spendMicros / 1_000_000,
      requests: ledger.requests,
      reserved_tokens: reserved.tokens,
      reserved_usd: reserved.spendMicros / 1_000_000,
      ...(this.record?.limits?.length ? { windows: this.windowUsage() } : {}),
    };
  }

  /** Used + reserved in the current hour, day and ISO week (shown for keys with window limits). */
  private windowUsage(): NonNullable<KeyUsage["windows"]> {
    const now = this.now();
    return SUB_MONTH_WINDOWS.map((window) => {
      const t = this.windowTotals(window, now);
      return { window, tokens: t.tokens, spend_usd: t.spendMicros / 1_000_000, requests: t.requests };
    });
  }

  /** For `/v1/models`: the key's model allow-list, after the same identity checks as admit. */
  async authorize(
    keyId: string,
    secretHash: string,
  ): Promise<{ ok: true; models: string[]; rate: RateLimitInfo } | { ok: false; code: DenialCode; message: string; unknownKey?: true }> {
    const record = this.heldRecord() ?? (await this.ensureRecord(keyId));
    if (!record) return { ok: false, code: "invalid_api_key", message: "Invalid API key.", unknownKey: true };
    const refused = secretDenial(record, secretHash, this.now());
    if (refused) return { ok: false, ...refused };
    const now = this.now();
    const denial = identityDenial(record, now);
    if (denial?.code === "key_expired") this.recordExpiry(record, "");
    return denial ? { ok: false, ...denial } : { ok: true, models: record.models, rate: peekRateInfo(record, this.rate, now) };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.opened) return; // nothing stored, nothing due
    this.applyDeferredSettles();
    const now = this.now();
    for (const reservation of [...this.reservations.values()]) {
      if (reservation.expiresAt > now || !this.record) continue;
      // The isolate that admitted it is gone: charge the whole reservation, audit it as expired.
      this.close(reservation, reservation.tokens, reservation.costMicros);
      if (reservation.budgetId) {
        const charge = { keyId: this.record.id, requestId: reservation.requestId, tokens: reservation.tokens, costMicros: reservation.costMicros };
        this.ctx.waitUntil(this.settleInBudget(reservation.budgetId, [charge]));
      }
      this.recordAudit(this.record.id, now, reservation, "expired", reservation.tokens, 0, reservation.costMicros, now - reservation.admittedAt);
      this.store.addRollup({
        hour: hourOf(now),
        model: reservation.model,
        requests: 1,
        promptTokens: reservation.tokens,
        completionTokens: 0,
        costMicros: reservation.costMicros,
      });
      this.store.addAttribution(hourOf(now), reservation.user ?? null, reservation.tags ?? [], {
        requests: 1,
        promptTokens: reservation.tokens,
        completionTokens: 0,
        costMicros: reservation.costMicros,
      });
    }
    this.store.pruneWindows({ "h:": windowKey("1h", now), "d:": windowKey("1d", now), "w:": windowKey("7d", now) });
    this.store.pruneUsers({ "h:": windowKey("1h", now), "d:": windowKey("1d", now), "w:": windowKey("7d", now), month: windowKey("month", now) });
    this.store.pruneAttributionSeen(hourOf(now));
    const pending = this.store.pendingRollups();
    const attribution = this.store.pendingAttribution();
    if ((pending.length > 0 || attribution.length > 0) && this.record) {
      await flushRollups(this.env.DB, this.record.id, pending, attribution);
      this.store.clearRollups(pending);
      this.store.clearAttribution(attribution);
    }
    this.flushDenials(now);
    await this.checkpoints.signIfDue(now);
    const next = Math.min(
      ...[...this.reservations.values()].map((r) => r.expiresAt),
      this.store.pendingRollups().length > 0 || this.store.pendingAttribution().length > 0 ? now + this.rollupFlushMs() : Infinity,
      this.checkpoints.nextDue ?? Infinity,
      this.auditLog.nextDenialFlush ?? Infinity,
    );
    if (Number.isFinite(next)) this.scheduleAlarm(next);
  }

  /** Admin: up to `limit` audit rows after seq `after`, all sealed first, and the head. */
  async auditPage(keyId: string, after: number, limit: number): Promise<AuditPageResult> {
    if (!(await this.ensureRecord(keyId))) return auditFailure("not_found", "No such key.");
    this.beforeAuditRead();
    try {
      return await this.auditLog.page(after, limit);
    } catch (error) {
      if (error instanceof AuditUnavailable) return auditFailure("unavailable", error.message);
      throw error;
    }
  }

  /** Admin export by time: the seqs of the first and last entry stamped in [fromTs, toTs) (null: none). */
  async auditTimeRange(keyId: string, fromTs: number, toTs: number): Promise<{ ok: true; range: { first: number; last: number } | null } | AuditFailure> {
    if (!(await this.ensureRecord(keyId))) return auditFailure("not_found", "No such key.");
    this.beforeAuditRead();
    return { ok: true, range: this.auditLog.seqRangeByTime(fromTs, toTs) };
  }

  /** A signed checkpoint of the whole log (the latest if current, else a fresh one). */
  async auditCheckpoint(keyId: string): Promise<AuditCheckpointResult> {
    if (!(await this.ensureRecord(keyId))) return auditFailure("not_found", "No such key.");
    this.beforeAuditRead();
    return this.checkpoints.ensure(this.now());
  }

  /** A shareable report of a range of the log, against a freshly signed checkpoint, signed as a whole under `reportId`. */
  async auditReport(keyId: string, range: AuditRange, reportId: string): Promise<AuditReportResult> {
    if (!(await this.ensureRecord(keyId))) return auditFailure("not_found", "No such key.");
    this.beforeAuditRead();
    return this.checkpoints.report(range, this.now(), reportId);
  }

  /** Every read of the log sees what is due in it: ended denial windows, and the key's expiry. */
  private beforeAuditRead(): void {
    this.applyDeferredSettles();
    this.flushDenials(this.now());
    if (this.record) this.recordExpiry(this.record, "");
  }

  private rollupFlushMs(): number {
    const ms = Number(this.env.ROLLUP_FLUSH_MS);
    return Number.isInteger(ms) && ms > 0 ? ms : DEFAULT_ROLLUP_FLUSH_MS;
  }

  private close(reservation: Reservation, tokens: number, costMicros: number): void {
    this.reservations.delete(reservation.requestId);
    this.store.removeReservation(reservation.requestId);
    const before = this.store.ledger(reservation.period);
    this.store.charge(reservation.period, tokens, costMicros);
    // The hour, day and ISO week of the admission too (src/policy/windows.ts): always, so a window
    // limit added later sees what was already spent in its window.
    this.store.chargeAll(
      "window_ledger",
      SUB_MONTH_WINDOWS.map((window) => windowKey(window, reservation.admittedAt)),
      tokens,
      costMicros,
    );
    chargeUser(this.store, this.record?.perUserLimits ?? [], reservation, tokens, costMicros);
    if (this.record) limitAlerts(this.ctx, this.env, this.record, reservation.period, before, this.store.ledger(reservation.period), this.now());
  }

  /**
   * A denial is counted into its kind's one-minute window in the caller's synchronous step (stored);
   * the window becomes one audit entry with the exact count when the minute is over (key-guard-audit.ts).
   */
  private recordDenial(
    keyId: string,
    ts: number,
    req: Pick<AdmitRequest, "requestId" | "model" | "provider" | "endpoint" | "stream" | "user" | "tags">,
    code: DenialCode,
  ): void {
    this.flushDenials(ts);
    const due = this.auditLog.deny(code, {
      keyId,
      ts,
      requestId: req.requestId,
      model: req.model,
      provider: req.provider,
      endpoint: req.endpoint ?? "chat",
      stream: req.stream,
      status: statusOf(code),
      promptTokens: 0,
      completionTokens: 0,
      costMicros: 0,
      latencyMs: 0,
      ...attributionOf(req),
    });
    this.scheduleAlarm(due);
  }

  /** Writes the entries of denial windows that are over (alarm, reads, the next denial). */
  private flushDenials(now: number): void {
    if (this.auditLog.flushDenials(now) === 0) return;
    const due = this.checkpoints.noteGrowth(now);
    if (due !== null) this.scheduleAlarm(due);
  }

  /** Appends the entry in the caller's synchronous step; sealing and checkpoints follow later. */
  private recordAudit(
    keyId: string,
    ts: number,
    req: Pick<AdmitRequest, "requestId" | "model" | "provider" | "endpoint" | "stream"> & Pick<Reservation, "user" | "tags" | "injectedMaxTokens">,
    status: AuditStatus,
    promptTokens: number,
    completionTokens: number,
    costMicros: number,
    latencyMs: number,
  ): void {
    this.auditLog.append({
      keyId,
      ts,
      requestId: req.requestId,
      model: req.model,
      provider: req.provider,
      endpoint: req.endpoint ?? "chat",
      stream: req.stream,
      status,
      promptTokens,
      completionTokens,
      costMicros,
      latencyMs,
      ...attributionOf(req),
      // Issue 18: the output bound the gateway added (absent when none).
      ...(req.injectedMaxTokens == null ? {} : { injectedMaxTokens: req.injectedMaxTokens }),
    });
    const due = this.checkpoints.noteGrowth(ts);
    if (due !== null) this.scheduleAlarm(due);
  }

  private reservedIn(period: string): Totals {
    let tokens = 0;
    let spendMicros = 0;
    for (const r of this.reservations.values()) {
      if (r.period !== period) continue;
      tokens += r.tokens;
      spendMicros += r.costMicros;
    }
    return { tokens, spendMicros };
  }

  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    // `at` is on the object's clock; the runtime fires alarms on the wall clock. Scheduling by delay
    // keeps a driven clock (tests) from setting an alarm in the wall-clock past, which would fire,
    // find nothing due on the driven clock, reschedule in the past and spin forever.
    void this.ctx.storage.setAlarm(Date.now() + Math.max(0, at - this.now()));
  }

  private async ensureRecord(keyId: string): Promise<KeyRecord | null> {
    if (this.record) {
      await this.retryHistory(); // only audit reads get here with a record held: never the hot path
      return this.record;
    }
    // Known to be no key (a forged or deleted id): answered without D1 until the entry expires.
    if (this.now() < this.unknownUntil) return null;
    // First request with this key (or storage lost): D1 is the catalogue. Marked activated and read
    // in one statement, so an admin change made meanwhile is either read here or pushed here.
    this.recordLoad ??= activateKeyRecord(this.env.DB, keyId, this.now())
      // Only a real key asks the control-plane log, once: a forged id costs it nothing.
      .then(async (record) => ({ record, history: record ? await fetchPolicyHistory(this.env, keyId) : null }))
      .then(({ record, history }) => {
        if (record) {
          this.applyRecord(record);
          // Same synchronous step: the history precedes the entry of any request (key-guard-history.ts).
          this.appendHistory(record, history);
          this.recordCheckedAt = this.now();
        } else if (!this.record) {
          this.unknownUntil = this.now() + UNKNOWN_KEY_TTL_MS;
        }
        return this.record;
      })
      .finally(() => {
        this.recordLoad = null;
      });
    return this.recordLoad;
  }

  /**
   * The record held in memory, for the hot path (no I/O). At most every RECORD_RECHECK_MS, and once
   * after a cold start, it is also re-read from D1 in the background, so a divergence heals.
   */
  private heldRecord(): KeyRecord | null {
    const record = this.record;
    if (!record || this.recordCheck || this.now() - this.recordCheckedAt < RECORD_RECHECK_MS) return record;
    this.recordCheckedAt = this.now();
    this.recordCheck = loadKeyRecord(this.env.DB, record.id)
      .then((fresh) => {
        if (fresh) this.applyRecord(fresh);
        return this.retryHistory();
      })
      .catch((error: unknown) => logError("key record re-check failed", { key_id: record.id, error: String(error) }))
      .finally(() => {
        this.recordCheck = null;
      });
    this.ctx.waitUntil(this.recordCheck);
    return record;
  }
}

/** The audit entry's attribution fields: only those the request carried, so other entries keep their bytes. */
function attributionOf(req: { user?: string | null; tags?: string[] }): { user?: string; tags?: string[] } {
  return { ...(req.user ? { user: req.user } : {}), ...(req.tags?.length ? { tags: req.tags } : {}) };
}

/** Records stored before versions existed count as the oldest. */
const versionOf = (record: KeyRecord) => record.version ?? 0;

const encoder = new TextEncoder();

/** Constant-time comparison of two hex hashes (always the same length when well-formed). */
function hashesEqual(stored: string, given: string): boolean {
  const a = encoder.encode(stored);
  const b = encoder.encode(given);
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

/** Null when the secret is the key's current one, or its previous one within the rotation grace. */
function secretDenial(record: KeyRecord, secretHash: string, now: number): { code: DenialCode; message: string } | null {
  const match = matchSecret(record, secretHash, now, hashesEqual);
  if (match === "current" || match === "previous") return null;
  if (match === "rotated") return { code: "key_rotated", message: "This API key was rotated and its grace period is over: use the new key." };
  return { code: "invalid_api_key", message: "Invalid API key." };
}

/** An admit refusal as the Worker receives it. */
function refusal(denial: { code: DenialCode; message: string; retryAfterMs?: number }, rate: RateLimitInfo): Extract<AdmitResult, { ok: false }> {
  return {
    ok: false,
    code: denial.code,
    message: denial.message,
    rate,
    ...(denial.retryAfterMs === undefined ? {} : { retryAfterMs: denial.retryAfterMs }),
  };
}
