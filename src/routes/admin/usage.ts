import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import * as z from "zod";
import { usageRollups } from "../../db/schema";
import type { AppEnv } from "../../env";
import { parseWith } from "../../lib/request-body";

/**
 * `GET /admin/v1/usage?key_id=&model=&from=&to=&granularity=hour|day` — time series for the
 * dashboard charts, from the hourly rollups each KeyGuard flushes to D1 (off the hot path, within
 * about a minute of the request).
 */
export const usageRoutes = new Hono<AppEnv>();

const DAY = 86_400_000;

export const usageQuery = z.strictObject({
  key_id: z.string().min(1).max(64).optional(),
  model: z.string().min(1).max(256).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  granularity: z.enum(["hour", "day"]).default("hour"),
});

usageRoutes.get("/", async (c) => {
  const q = parseWith(usageQuery, c.req.query());
  const to = q.to ? Date.parse(q.to) : Date.now();
  const from = q.from ? Date.parse(q.from) : to - 7 * DAY;
  const bucket = q.granularity === "day" ? sql<number>`(${usageRollups.hour} / ${DAY}) * ${DAY}` : sql<number>`${usageRollups.hour}`;
  const rows = await drizzle(c.env.DB)
    .select({
      bucket,
      keyId: usageRollups.keyId,
      model: usageRollups.model,
      requests: sql<number>`sum(${usageRollups.requests})`,
      promptTokens: sql<number>`sum(${usageRollups.promptTokens})`,
      completionTokens: sql<number>`sum(${usageRollups.completionTokens})`,
      costMicros: sql<number>`sum(${usageRollups.costMicros})`,
    })
    .from(usageRollups)
    .where(
      and(
        gte(usageRollups.hour, from - (from % 3_600_000)),
        lt(usageRollups.hour, to),
        q.key_id ? eq(usageRollups.keyId, q.key_id) : undefined,
        q.model ? eq(usageRollups.model, q.model) : undefined,
      ),
    )
    .groupBy(bucket, usageRollups.keyId, usageRollups.model)
    .orderBy(asc(bucket))
    .all();
  return c.json({
    object: "list",
    granularity: q.granularity,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    data: rows.map((r) => ({
      time: new Date(r.bucket).toISOString(),
      key_id: r.keyId,
      model: r.model,
      requests: r.requests,
      prompt_tokens: r.promptTokens,
      completion_tokens: r.completionTokens,
      cost_usd: r.costMicros / 1_000_000,
    })),
  });
});
