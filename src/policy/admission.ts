import type { AdmitRequest, DenialCode, Policy, RateLimitInfo } from "../keys/types";
import { FALLBACK_MAX_TOKENS } from "../pricing/max-output";
import { maxOutputWithin, worstCaseCostMicros } from "../pricing/price";
import { gcra } from "./gcra";
import { isModelAllowed } from "./model-glob";
import { boundsDollars, boundsTokens, type Window, type WindowLimit, type WindowTotals, windowDenial } from "./windows";

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
  "modelNames" | "model" | "promptTokens" | "maxTokens" | "modelMaxTokens" | "maxTokensRequired" | "price" | "choices" | "extraOutputTokens" | "unbounded"
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
  // Per-user limits (checked by the KeyGuard after this decision, with this worst case) bound it too.
  const perUser = policy.perUserLimits ?? [];
  const bounded =
    policy.monthlyTokenQuota !== null || policy.spendCapMicros !== null || policy.tpm !== null || boundsTokens(limits) || boundsTokens(perUser) || inBudget;
  const dollarCapped = policy.spendCapMicros !== null || boundsDollars(limits) || boundsDollars(perUser) || inBudget;
  const unbounded = input.unbounded;
  if (unbounded && (unbounded.kind === "tokens" ? bounded : dollarCapped)) return deny("invalid_request", unbounded.message);

  // Every choice may use the whole output cap, and a predicted output's rejected tokens come on top.
  const choices = Math.max(1, Math.floor(input.choices ?? 1));
  const extraOutput = Math.max(0, input.extraOutputTokens ?? 0);
  const soft = isSoft(policy);
  const { perChoice, injectMaxTokens } = outputBound(policy, input, bounded && !soft, soft, () => {
    // With a TPM limit the bound shrinks to what one minute allows (shared by the choices), so a
    // request without max_tokens is still admissible on a small-TPM key.
    const tpmRoom = policy.tpm === null ? Infinity : Math.max(1, Math.floor((policy.tpm - input.promptTokens - extraOutput) / choices));
    return Math.min(tpmRoom, outputRoom(policy, used, reserved, input, choices, extraOutput, limits, windowTotals));
  });
  const outputTokens = perChoice * choices + extraOutput;
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

  if (soft) {
    // Soft caps: admitted while what is charged is below the cap; requests in flight are not counted (README, "Output bounds").
    if (policy.monthlyTokenQuota !== null && used.tokens >= policy.monthlyTokenQuota) {
      return deny("quota_exceeded", "The key's monthly token quota is used up (soft cap).", info);
    }
    if (policy.spendCapMicros !== null && used.spendMicros >= policy.spendCapMicros) {
      return deny("spend_cap_exceeded", "The key's monthly spend cap is used up (soft cap).", info);
    }
  } else {
    if (policy.monthlyTokenQuota !== null && used.tokens + reserved.tokens + tokens > policy.monthlyTokenQuota) {
      return deny("quota_exceeded", "This request could exceed the key's monthly token quota.", info);
    }
    if (policy.spendCapMicros !== null && used.spendMicros + reserved.spendMicros + costMicros > policy.spendCapMicros) {
      return deny("spend_cap_exceeded", "This request could exceed the key's monthly spend cap.", info);
    }
  }
  // A soft key has only request-count windows (isSoft): they are checked as on any key.
  const window = limits.length > 0 ? windowDenial(limits, windowTotals, soft ? 0 : tokens, soft ? 0 : costMicros, now, "key") : null;
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

/** Below this an injected bound is of no use (OpenAI's Responses API refuses max_output_tokens < 16): the request is refused as over its cap instead. */
export const MIN_INJECTED_MAX_TOKENS = 16;

/**
 * Soft cap mode applies only where no limit needs each request's exact worst case: a TPM limit, a
 * shared budget, or a sub-month token / dollar window keeps the key exact (the admin API refuses
 * the combination; this keeps admission safe if one slips through a concurrent PATCH).
 */
export function isSoft(policy: Policy): boolean {
  return (
    policy.capMode === "soft" &&
    policy.tpm === null &&
    policy.budgetId == null &&
    !boundsTokens(policy.limits ?? []) &&
    !boundsTokens(policy.perUserLimits ?? [])
  );
}

/**
 * The output bound per choice a request is reserved with, and the bound injected upstream (null: none).
 * A client's own max_tokens is kept as it is. Without one, the default is the key's
 * `default_max_tokens` or else the model's maximum output (never above the model's maximum; the
 * fallback when the catalogue does not know it). An exact key lowers it only as far as its limits
 * require (`room`), and injects nothing when the result is the model's maximum and the provider
 * applies that itself (OpenAI, Gemini; Anthropic requires the field). Soft and uncapped keys inject
 * only the admin's default, or the provider's required field.
 */
function outputBound(policy: Policy, input: Input, exact: boolean, soft: boolean, room: () => number): { perChoice: number; injectMaxTokens: number | null } {
  if (input.maxTokens !== null) return { perChoice: input.maxTokens, injectMaxTokens: null };
  const keyDefault = policy.defaultMaxTokens ?? null;
  const modelMax = input.modelMaxTokens;
  const ceiling = Math.min(keyDefault ?? modelMax ?? FALLBACK_MAX_TOKENS, modelMax ?? Infinity);
  const required = input.maxTokensRequired === true;
  if (exact) {
    const perChoice = Math.max(Math.min(MIN_INJECTED_MAX_TOKENS, ceiling), Math.min(ceiling, room()));
    const providerApplies = perChoice === modelMax && keyDefault === null && !required;
    return { perChoice, injectMaxTokens: providerApplies ? null : perChoice };
  }
  const injectMaxTokens = keyDefault !== null || required ? ceiling : null;
  // A soft key still reserves the worst case (shown as reserved; not checked against its cap).
  return { perChoice: injectMaxTokens ?? (soft ? ceiling : 0), injectMaxTokens };
}

/**
 * The most output tokens per choice that fit every token and dollar limit the key itself holds
 * (monthly quota and spend cap, window limits) after what is charged and reserved. A shared
 * budget's totals live in its BudgetGuard: it is not lowered for, and may still refuse.
 */
function outputRoom(
  policy: Policy,
  used: Totals,
  reserved: Totals,
  input: Input,
  choices: number,
  extraOutput: number,
  limits: readonly WindowLimit[],
  windowTotals: WindowTotalsOf,
): number {
  const perChoice = (output: number) => (output < 0 ? -1 : Math.floor((output - extraOutput) / choices));
  const cap = (input.modelMaxTokens ?? Math.max(FALLBACK_MAX_TOKENS, policy.defaultMaxTokens ?? 0)) * choices + extraOutput;
  const fromTokens = (limit: number, t: Totals) => perChoice(limit - t.tokens - input.promptTokens);
  const fromDollars = (limit: number, spent: number) =>
    input.price ? perChoice(maxOutputWithin(input.price, input.promptTokens, limit - spent, cap)) : Infinity;
  let room = Infinity;
  const total = { tokens: used.tokens + reserved.tokens, spendMicros: used.spendMicros + reserved.spendMicros };
  if (policy.monthlyTokenQuota !== null) room = Math.min(room, fromTokens(policy.monthlyTokenQuota, total));
  if (policy.spendCapMicros !== null) room = Math.min(room, fromDollars(policy.spendCapMicros, total.spendMicros));
  for (const limit of limits) {
    if (limit.tokens == null && limit.usdMicros == null) continue;
    const t = windowTotals(limit.window);
    if (limit.tokens != null) room = Math.min(room, fromTokens(limit.tokens, t));
    if (limit.usdMicros != null) room = Math.min(room, fromDollars(limit.usdMicros, t.spendMicros));
  }
  return room;
}
