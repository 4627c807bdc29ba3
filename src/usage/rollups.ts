import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { usageAttribution, usageRollups } from "../db/schema";

export interface UsageRollup {
  hour: number;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
}

export type AttributionKind = "tag" | "user";

/** Hourly usage of one tag or one end-user id ('' = requests without one) of a key. */
export interface AttributionRollup {
  hour: number;
  kind: AttributionKind;
  value: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
}

/** Adds a key's pending hourly usage (per model, and per tag / end user) to D1 in one atomic batch (called from the KeyGuard alarm). */
export async function flushRollups(db: D1Database, keyId: string, deltas: UsageRollup[], attribution: AttributionRollup[] = []): Promise<void> {
  if (deltas.length === 0 && attribution.length === 0) return;
  const orm = drizzle(db);
  const byModel = deltas.map((d) =>
    orm
      .insert(usageRollups)
      .values({
        keyId,
        hour: d.hour,
        model: d.model,
        requests: d.requests,
        promptTokens: d.promptTokens,
        completionTokens: d.completionTokens,
        costMicros: d.costMicros,
      })
      .onConflictDoUpdate({
        target: [usageRollups.keyId, usageRollups.hour, usageRollups.model],
        set: {
          requests: sql`${usageRollups.requests} + excluded.requests`,
          promptTokens: sql`${usageRollups.promptTokens} + excluded.prompt_tokens`,
          completionTokens: sql`${usageRollups.completionTokens} + excluded.completion_tokens`,
          costMicros: sql`${usageRollups.costMicros} + excluded.cost_micros`,
        },
      }),
  );
  const byAttribution = attribution.map((d) =>
    orm
      .insert(usageAttribution)
      .values({
        keyId,
        hour: d.hour,
        kind: d.kind,
        value: d.value,
        requests: d.requests,
        promptTokens: d.promptTokens,
        completionTokens: d.completionTokens,
        costMicros: d.costMicros,
      })
      .onConflictDoUpdate({
        target: [usageAttribution.keyId, usageAttribution.hour, usageAttribution.kind, usageAttribution.value],
        set: {
          requests: sql`${usageAttribution.requests} + excluded.requests`,
          promptTokens: sql`${usageAttribution.promptTokens} + excluded.prompt_tokens`,
          completionTokens: sql`${usageAttribution.completionTokens} + excluded.completion_tokens`,
          costMicros: sql`${usageAttribution.costMicros} + excluded.cost_micros`,
        },
      }),
  );
  const statements = [...byModel, ...byAttribution];
  await orm.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}
