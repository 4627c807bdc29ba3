import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { usageRollups } from "../db/schema";

export interface UsageRollup {
  hour: number;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
}

/** Adds a key's pending hourly usage to D1 in one atomic batch (called from the KeyGuard alarm). */
export async function flushRollups(db: D1Database, keyId: string, deltas: UsageRollup[]): Promise<void> {
  if (deltas.length === 0) return;
  const orm = drizzle(db);
  const statements = deltas.map((d) =>
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
  await orm.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}
