import type { AdmitRequest, DenialCode, Policy, RateLimitInfo } from "../keys/types";
import { worstCaseCostMicros } from "../pricing/price";
import { gcra } from "./gcra";
import { isModelAllowed } from "./model-glob";
import { boundsDollars, boundsTokens, type Window, type WindowTotals, windowDenial } from "./windows";

/**
 * The admission decision of one request, as a pure function of the key's policy and counters.
 * The KeyGuard DO calls it and applies the result in the same synchronous step, which is what makes
 * concurrent requests unable to pass a cap together.
 */

export interface Totals {
  tokens: number;
  spendMicros: number;
}

export interface RateState {
  rpmTat: number;
  tpmTat: number;
}

export interface Grant {
  /** Worst-case tokens and cost held by the reservation. */
  tokens: number;
  costMicros: number;
  injectMaxTokens: number | null;
  rate: RateState;
}

export type Decision =
  { ok: true; grant: Grant; info: RateLimitInfo } | { ok: false; code: DenialCode; message: string; retryAfterMs?: number; info: RateLimitInfo };

type Input = Pick<
  AdmitRequest,
  "modelNames" | "model" | "promptTokens" | "maxTokens" | "defaultMaxTokens" | "price" | "choices" | "extraOutputTokens" | "unbounded"
>;

function deny(code: DenialCode, message: string, info: RateLimitInfo = {}, retryAfterMs?: number): Decision {
  return retryAfterMs === undefined ? { ok: false, code, message, info } : { ok: false, code, message, info, retryAfterMs };
}

/** The key's rate-limit state without spending any of it (for responses that cost nothing). */
export function peekRateInfo(policy: Policy, rate: RateState, now: number): RateLimitInfo {
  const info: RateLimitInfo = {};
  if (policy.rpm !== null) {
    const d = gcra(rate.rpmTat, now, policy.rpm, 0);
    Object.assign(info, { limitRequests: policy.rpm, remainingRequests: d.remaining, resetRequestsMs: d.resetMs });
  }
  if (policy.tpm !== null) {
    const d = gcra(rate.tpmTat, now, policy.tpm, 0);
    Object.assign(info, { limitTokens: policy.tpm, remainingTokens: d.remaining, resetTokensMs: d.resetMs });
  }
  return info;
}

/** Revoked or expired: the checks `/v1/models` shares with admission. */
export function identityDenial(policy: Policy, now: number): { code: DenialCode; message: string } | null {
  if (policy.revokedAt !== null) return { code: "key_revoked", message: "This API key has been revoked." };
  if (policy.expiresAt !== null && now >= policy.expiresAt) return { code: "key_expired", message: "This API key has expired." };
  return null;
}

/** A window's used + reserved totals (requests in flight included), for the key's window limits. */
export type WindowTotalsOf = (window: Window) => WindowTotals;

const NO_WINDOWS: WindowTotalsOf = () => ({ tokens: 0, spendMicros: 0, requests: 0 });

export function decideAdmission(
  policy: Policy,
  used: Totals,
  reserved: Totals,
  rate: RateState,
  input: Input,
  now: number,
  windowTotals: WindowTotalsOf = NO_WINDOWS,
): Decision {
  const limits = policy.limits ?? [];
  const identity = identityDenial(policy, now);
  if (identity) return deny(identity.code, identity.message);
  if (!isModelAllowed(policy.models, input.modelNames)) {
    return deny("model_not_allowed", `This API key may not use the model '${input.model}'.`);
  }

  // A budget's limits are checked in its BudgetGuard after this decision, with this worst case: a
  // member key always reserves a bounded, priced worst case (conservative: the budget may cap only one kind).
  const inBudget = policy.budgetId != null;
  const bounded = policy.monthlyTokenQuota !== null || policy.spendCapMicros !== null || policy.tpm !== null || boundsTokens(limits) || inBudget;
  const dollarCapped = policy.spendCapMicros !== null || boundsDollars(limits) || inBudget;
  const unbounded = input.unbounded;
  if (unbounded && (unbounded.kind === "tokens" ? bounded : dollarCapped)) return deny("invalid_request", unbounded.message);

  // Every choice may use the whole output cap, and a predicted output's rejected tokens come on top.
  const choices = Math.max(1, Math.floor(input.choices ?? 1));
  const extraOutput = Math.max(0, input.extraOutputTokens ?? 0);
  // With a TPM limit the injected cap shrinks to what one minute allows (shared by the choices), so
  // a request without max_tokens is still admissible on a small-TPM key.
  const tpmRoom = policy.tpm === null ? Infinity : Math.max(1, Math.floor((policy.tpm - input.promptTokens - extraOutput) / choices));
  const injectMaxTokens = input.maxTokens === null && bounded ? Math.min(input.defaultMaxTokens, tpmRoom) : null;
  const outputTokens = (input.maxTokens ?? injectMaxTokens ?? 0) * choices + extraOutput;
  const tokens = input.promptTokens + outputTokens;

  if (dollarCapped && input.price === null) {
    return deny(
      "model_not_allowed",
      `The model '${input.model}' has no price, and this key has a spend cap (or a shared budget). Prices match exact model names (and listed dated snapshots); an admin can set one with POST /admin/v1/prices.`,
    );
  }
  const costMicros = input.price ? worstCaseCostMicros(input.price, input.promptTokens, outputTokens) : 0;

  const info: RateLimitInfo = {};
  const rpm = policy.rpm === null ? null : gcra(rate.rpmTat, now, policy.rpm, 1);
  const tpm = policy.tpm === null ? null : gcra(rate.tpmTat, now, policy.tpm, tokens);
  if (rpm && policy.rpm !== null) {
    Object.assign(info, { limitRequests: policy.rpm, remainingRequests: rpm.remaining, resetRequestsMs: rpm.resetMs });
  }
  if (tpm && policy.tpm !== null) {
    Object.assign(info, { limitTokens: policy.tpm, remainingTokens: tpm.remaining, resetTokensMs: tpm.resetMs });
  }
  if (rpm && !rpm.allowed) {
    return deny("rate_limit_exceeded", `Rate limit of ${policy.rpm} requests per minute reached for this key.`, info, rpm.retryAfterMs);
  }
  if (tpm && !tpm.allowed) {
    if (policy.tpm !== null && tokens > policy.tpm) {
      return deny("rate_limit_exceeded", `This request's worst case of ${tokens} tokens exceeds the key's limit of ${policy.tpm} tokens per minute.`, info);
    }
    return deny("rate_limit_exceeded", `Rate limit of ${policy.tpm} tokens per minute reached for this key.`, info, tpm.retryAfterMs);
  }

  if (policy.monthlyTokenQuota !== null && used.tokens + reserved.tokens + tokens > policy.monthlyTokenQuota) {
    return deny("quota_exceeded", "This request could exceed the key's monthly token quota.", info);
  }
  if (policy.spendCapMicros !== null && used.spendMicros + reserved.spendMicros + costMicros > policy.spendCapMicros) {
    return deny("spend_cap_exceeded", "This request could exceed the key's monthly spend cap.", info);
  }
  const window = limits.length > 0 ? windowDenial(limits, windowTotals, tokens, costMicros, now, "key") : null;
  if (window) return deny(window.code, window.message, info, window.retryAfterMs);

  return {
    ok: true,
    grant: {
      tokens,
      costMicros,
      injectMaxTokens,
      rate: { rpmTat: rpm ? rpm.tat : rate.rpmTat, tpmTat: tpm ? tpm.tat : rate.tpmTat },
    },
    info,
  };
}
