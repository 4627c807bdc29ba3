import { DurableObject } from "cloudflare:workers";
import { loadKeyRecord, markActivated } from "../src/keys/catalogue";
import type { AdmitRequest, AdmitResult, DenialCode, KeyRecord, KeyUsage, RateLimitInfo, SettleRequest } from "../src/keys/types";
import { decideAdmission, identityDenial, peekRateInfo, type RateState, type Totals } from "../src/policy/admission";
import { gcraRefund } from "../src/policy/gcra";
import { hourOf, periodOf } from "../src/policy/period";
import { flushRollups } from "../src/usage/rollups";
import { statusOf } from "../src/errors";
import { KeyGuardStore, type Reservation } from "./key-guard-store";
import { AuditLog, AuditUnavailable, auditFailure, type AuditEnv, type AuditPageResult } from "./key-guard-audit";
import { AuditStore } from "./key-guard-audit-store";
import { AuditCheckpoints, type AuditCheckpointResult, type AuditRange, type AuditReportResult } from "./key-guard-checkpoints";

/** A reservation that never settles (the isolate died) is charged and audited after this long. */
export const RESERVATION_TTL_MS = 15 * 60_000;
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
  private rate: RateState = { rpmTat: 0, tpmTat: 0 };
  private reservations = new Map<string, Reservation>();
  private alarmAt: number | null = null;
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
      this.store.migrate();
      this.record = this.store.loadRecord();
      this.rate = this.store.loadRate();
      for (const r of this.store.reservations()) this.reservations.set(r.requestId, r);
      // Rows a previous instance appended but did not seal are sealed now (after this block).
      this.auditLog.load();
      this.checkpoints.load(this.now());
      this.alarmAt = await ctx.storage.getAlarm();
      if (this.checkpoints.nextDue !== null) this.scheduleAlarm(this.checkpoints.nextDue);
    });
  }

  /** Create or replace the key's record (admin create, patch, revoke). Effective for the next admit. */
  configure(record: KeyRecord): KeyUsage {
    this.record = record;
    this.store.saveRecord(record);
    return this.usage();
  }

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const record = this.record ?? (await this.ensureRecord(req.keyId));
    // From here on: no await until the decision is written.
    if (!record || !secretMatches(record, req.secretHash)) {
      return { ok: false, code: "invalid_api_key", message: "Invalid API key.", rate: {} };
    }
    const now = this.now();
    const period = periodOf(now);
    const decision = decideAdmission(record, this.store.ledger(period), this.reservedIn(period), this.rate, req, now);
    if (!decision.ok) {
      if (decision.code !== "key_revoked" && decision.code !== "key_expired") {
        this.recordAudit(record.id, now, req, statusOf(decision.code), 0, 0, 0, 0);
      }
      return {
        ok: false,
        code: decision.code,
        message: decision.message,
        rate: decision.info,
        ...(decision.retryAfterMs === undefined ? {} : { retryAfterMs: decision.retryAfterMs }),
      };
    }
    const reservation: Reservation = {
      requestId: req.requestId,
      period,
      tokens: decision.grant.tokens,
      costMicros: decision.grant.costMicros,
      model: req.model,
      provider: req.provider,
      stream: req.stream,
      admittedAt: now,
      expiresAt: now + RESERVATION_TTL_MS,
    };
    this.rate = decision.grant.rate;
    this.store.saveRate(this.rate);
    this.store.addReservation(reservation);
    this.reservations.set(req.requestId, reservation);
    this.scheduleAlarm(reservation.expiresAt);
    return { ok: true, injectMaxTokens: decision.grant.injectMaxTokens, rate: decision.info };
  }

  /** Releases the reservation and charges the real usage; a repeat or unknown id is a no-op. */
  settle(req: SettleRequest): { settled: boolean } {
    const reservation = this.reservations.get(req.requestId);
    if (!reservation || !this.record) return { settled: false };
    const now = this.now();
    const tokens = req.promptTokens + req.completionTokens;
    this.close(reservation, tokens, req.costMicros);
    if (this.record.tpm !== null && reservation.tokens > tokens) {
      this.rate = { ...this.rate, tpmTat: gcraRefund(this.rate.tpmTat, now, this.record.tpm, reservation.tokens - tokens) };
      this.store.saveRate(this.rate);
    }
    this.recordAudit(
      this.record.id,
      now,
      { requestId: req.requestId, model: reservation.model, provider: reservation.provider, stream: reservation.stream },
      req.status,
      req.promptTokens,
      req.completionTokens,
      req.costMicros,
      req.latencyMs,
    );
    this.store.addRollup({
      hour: hourOf(now),
      model: reservation.model,
      requests: 1,
      promptTokens: req.promptTokens,
      completionTokens: req.completionTokens,
      costMicros: req.costMicros,
    });
    this.scheduleAlarm(now + this.rollupFlushMs());
    return { settled: true };
  }

  usage(): KeyUsage {
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
    };
  }

  /** For `/v1/models`: the key's model allow-list, after the same identity checks as admit. */
  async authorize(
    keyId: string,
    secretHash: string,
  ): Promise<{ ok: true; models: string[]; rate: RateLimitInfo } | { ok: false; code: DenialCode; message: string }> {
    const record = this.record ?? (await this.ensureRecord(keyId));
    if (!record || !secretMatches(record, secretHash)) return { ok: false, code: "invalid_api_key", message: "Invalid API key." };
    const now = this.now();
    const denial = identityDenial(record, now);
    return denial ? { ok: false, ...denial } : { ok: true, models: record.models, rate: peekRateInfo(record, this.rate, now) };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = this.now();
    for (const reservation of [...this.reservations.values()]) {
      if (reservation.expiresAt > now || !this.record) continue;
      // The isolate that admitted it is gone: charge the whole reservation, audit it as expired.
      this.close(reservation, reservation.tokens, reservation.costMicros);
      this.recordAudit(this.record.id, now, reservation, "expired", reservation.tokens, 0, reservation.costMicros, now - reservation.admittedAt);
      this.store.addRollup({
        hour: hourOf(now),
        model: reservation.model,
        requests: 1,
        promptTokens: reservation.tokens,
        completionTokens: 0,
        costMicros: reservation.costMicros,
      });
    }
    const pending = this.store.pendingRollups();
    if (pending.length > 0 && this.record) {
      await flushRollups(this.env.DB, this.record.id, pending);
      this.store.clearRollups(pending);
    }
    await this.checkpoints.signIfDue(now);
    const next = Math.min(
      ...[...this.reservations.values()].map((r) => r.expiresAt),
      this.store.pendingRollups().length > 0 ? now + this.rollupFlushMs() : Infinity,
      this.checkpoints.nextDue ?? Infinity,
    );
    if (Number.isFinite(next)) this.scheduleAlarm(next);
  }

  /** Admin: up to `limit` audit rows after seq `after`, all sealed first, and the head. */
  async auditPage(keyId: string, after: number, limit: number): Promise<AuditPageResult> {
    if (!(await this.ensureRecord(keyId))) return auditFailure("not_found", "No such key.");
    try {
      return await this.auditLog.page(after, limit);
    } catch (error) {
      if (error instanceof AuditUnavailable) return auditFailure("unavailable", error.message);
      throw error;
    }
  }

  /** A signed checkpoint of the whole log (the latest if current, else a fresh one). */
  async auditCheckpoint(keyId: string): Promise<AuditCheckpointResult> {
    if (!(await this.ensureRecord(keyId))) return auditFailure("not_found", "No such key.");
    return this.checkpoints.ensure(this.now());
  }

  /** A shareable report of a range of the log, against a freshly signed checkpoint. */
  async auditReport(keyId: string, range: AuditRange): Promise<AuditReportResult> {
    if (!(await this.ensureRecord(keyId))) return auditFailure("not_found", "No such key.");
    return this.checkpoints.report(range, this.now());
  }

  private rollupFlushMs(): number {
    const ms = Number(this.env.ROLLUP_FLUSH_MS);
    return Number.isInteger(ms) && ms > 0 ? ms : DEFAULT_ROLLUP_FLUSH_MS;
  }

  private close(reservation: Reservation, tokens: number, costMicros: number): void {
    this.reservations.delete(reservation.requestId);
    this.store.removeReservation(reservation.requestId);
    this.store.charge(reservation.period, tokens, costMicros);
  }

  /** Appends the entry in the caller's synchronous step; sealing and checkpoints follow later. */
  private recordAudit(
    keyId: string,
    ts: number,
    req: Pick<AdmitRequest, "requestId" | "model" | "provider" | "stream">,
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
      stream: req.stream,
      status,
      promptTokens,
      completionTokens,
      costMicros,
      latencyMs,
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
    if (this.record) return this.record;
    // First request with this key (or storage lost): D1 is the catalogue. Mark the key activated
    // before reading it, so an admin change made meanwhile is either read here or pushed here.
    this.recordLoad ??= markActivated(this.env.DB, keyId, this.now())
      .then(() => loadKeyRecord(this.env.DB, keyId))
      .then((record) => {
        if (record && !this.record) this.configure(record);
        return this.record;
      })
      .finally(() => {
        this.recordLoad = null;
      });
    return this.recordLoad;
  }
}

const encoder = new TextEncoder();
const storedHashBytes = new WeakMap<KeyRecord, Uint8Array>();

/** Constant-time comparison of two hex hashes (always the same length when well-formed). */
function secretMatches(record: KeyRecord, secretHash: string): boolean {
  let stored = storedHashBytes.get(record);
  if (!stored) {
    stored = encoder.encode(record.secretHash);
    storedHashBytes.set(record, stored);
  }
  const given = encoder.encode(secretHash);
  return stored.byteLength === given.byteLength && crypto.subtle.timingSafeEqual(stored, given);
}
