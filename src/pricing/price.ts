import type { Usage } from "../providers/types";

/**
 * Prices are integers in micro-dollars per million tokens, which is the same number as
 * pico-dollars per token: $2.50 / 1M tokens = 2_500_000. Costs are integer micro-dollars.
 */
export interface ModelPrice {
  input: number;
  /** Cache reads. */
  cachedInput: number;
  /** Cache writes (Anthropic bills them above the input price; its 5-minute writes). */
  cacheWrite: number;
  /** 1-hour cache writes (Anthropic: 2× input); absent where a provider has no such writes, priced as `cacheWrite`. */
  cacheWrite1h?: number;
  output: number;
  /** A higher tier when the prompt is longer than `abovePromptTokens` (long-context pricing). */
  longContext?: { abovePromptTokens: number; input: number; cachedInput: number; cacheWrite: number; cacheWrite1h?: number; output: number };
}

const PER_MILLION = 1_000_000;

function tierFor(price: ModelPrice, promptTokens: number): Omit<ModelPrice, "longContext"> {
  return price.longContext && promptTokens > price.longContext.abovePromptTokens ? price.longContext : price;
}

/** Cost of a finished request, rounded up to the next micro-dollar so metering never under-charges. */
export function costMicros(price: ModelPrice, usage: Usage): number {
  const tier = tierFor(price, usage.promptTokens);
  const uncached = Math.max(0, usage.promptTokens - usage.cachedPromptTokens - usage.cacheWriteTokens);
  // The 1-hour writes are a part of all writes; the rest are 5-minute writes.
  const writes1h = Math.min(usage.cacheWrite1hTokens ?? 0, usage.cacheWriteTokens);
  const writes5m = usage.cacheWriteTokens - writes1h;
  const picoDollars =
    uncached * tier.input +
    usage.cachedPromptTokens * tier.cachedInput +
    writes5m * tier.cacheWrite +
    writes1h * (tier.cacheWrite1h ?? tier.cacheWrite) +
    usage.completionTokens * tier.output;
  return Math.ceil(picoDollars / PER_MILLION);
}

/**
 * The most a request can cost: every prompt token billed at the dearest input rate (a client may mark
 * its whole prompt for a 1-hour cache write), every allowed output token used.
 */
export function worstCaseCostMicros(price: ModelPrice, promptTokens: number, maxOutputTokens: number): number {
  const tier = tierFor(price, promptTokens);
  const inputRate = Math.max(tier.input, tier.cacheWrite, tier.cacheWrite1h ?? 0);
  return Math.ceil((promptTokens * inputRate + maxOutputTokens * tier.output) / PER_MILLION);
}

/**
 * The most output tokens (≤ `cap`) whose worst case with `promptTokens` fits in `budgetMicros`, or -1
 * when not even the prompt does. Binary search over worstCaseCostMicros itself, so the answer agrees
 * exactly with the admission check that follows (no separate float formula to drift from it).
 */
export function maxOutputWithin(price: ModelPrice, promptTokens: number, budgetMicros: number, cap: number): number {
  if (worstCaseCostMicros(price, promptTokens, 0) > budgetMicros) return -1;
  let lo = 0;
  let hi = Math.max(0, Math.floor(cap));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (worstCaseCostMicros(price, promptTokens, mid) <= budgetMicros) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Dollars as a decimal string for headers and the API (`0.000123`). */
export function formatUsd(micros: number): string {
  return (micros / PER_MILLION).toFixed(6);
}

/** Dollars as a JSON number (`usage.cost`): the same micro-dollars as formatUsd, never rounded differently. */
export function usdNumber(micros: number): number {
  return micros / PER_MILLION;
}

export function usdToMicros(usd: number): number {
  return Math.round(usd * PER_MILLION);
}
