import type { KeyRecord } from "../keys/types";
import type { ThresholdCrossedData } from "./events";
import { crossedThresholds } from "./thresholds";

interface Usage {
  tokens: number;
  spendMicros: number;
}

/**
 * `limit.threshold_crossed` data for the monthly spend cap and token quota thresholds that one
 * charge moved a key's ledger across. Amounts are reported in dollars and tokens. Pure.
 */
export function monthlyCrossings(
  record: Pick<KeyRecord, "id" | "spendCapMicros" | "monthlyTokenQuota">,
  period: string,
  before: Usage,
  after: Usage,
): ThresholdCrossedData[] {
  const base = { key_id: record.id, budget_id: null, window: "month", period };
  return [
    ...crossedThresholds(record.spendCapMicros, before.spendMicros, after.spendMicros).map((threshold) => ({
      ...base,
      metric: "usd" as const,
      threshold,
      limit: record.spendCapMicros! / 1_000_000,
      used: after.spendMicros / 1_000_000,
    })),
    ...crossedThresholds(record.monthlyTokenQuota, before.tokens, after.tokens).map((threshold) => ({
      ...base,
      metric: "tokens" as const,
      threshold,
      limit: record.monthlyTokenQuota!,
      used: after.tokens,
    })),
  ];
}
