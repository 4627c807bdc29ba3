import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import * as z from "zod";
import { usageAttribution, usageRollups } from "../../db/schema";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { parseWith } from "../../lib/request-body";

/**
 * `GET /admin/v1/usage?key_id=&model=&from=&to=&granularity=hour|day&group_by=model|tag|user` —
 * time series for the dashboard charts, from the hourly rollups each KeyGuard flushes to D1 (off the
 * hot path, within about a minute of the request). `group_by=model` (the default): per key and
 * model; `tag` / `user`: per key and tag (`x-keyforge-tags`) or end-user id, null for requests
 * without one (a request with two tags counts under both).
 */
export const usageRoutes = new Hono<AppEnv>();

const DAY = 86_400_000;

export const usageQuery = z.strictObject({
  key_id: z.string().min(1).max(64).optional(),
  model: z.string().min(1).max(256).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  granularity: z.enum(["hour", "day"]).default("hour"),
  group_by: z.enum(["model", "tag", "user"]).default("model"),
});

type UsageQuery = z.infer<typeof usageQuery>;

usageRoutes.get("/", async (c) => {
  const q = parseWith(usageQuery, c.req.query());
  const to = q.to ? Date.parse(q.to) : Date.now();
  const from = q.from ? Date.parse(q.from) : to - 7 * DAY;
  if (q.group_by !== "model") return c.json(await byAttribution(c.env.DB, q, from, to));
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
    group_by: q.group_by,
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

/** Usage per tag or per end-user id (the attribution rollups, which have no model dimension). */
async function byAttribution(db: D1Database, q: UsageQuery, from: number, to: number) {
  const kind = q.group_by as "tag" | "user";
  if (q.model)
    throw new GatewayError("invalid_request", `'model' cannot be combined with group_by=${kind}: usage per ${kind} is not kept per model.`, { param: "model" });
  const t = usageAttribution;
  const bucket = q.granularity === "day" ? sql<number>`(${t.hour} / ${DAY}) * ${DAY}` : sql<number>`${t.hour}`;
  const rows = await drizzle(db)
    .select({
      bucket,
      keyId: t.keyId,
      value: t.value,
      requests: sql<number>`sum(${t.requests})`,
      promptTokens: sql<number>`sum(${t.promptTokens})`,
      completionTokens: sql<number>`sum(${t.completionTokens})`,
      costMicros: sql<number>`sum(${t.costMicros})`,
    })
    .from(t)
    .where(and(eq(t.kind, kind), gte(t.hour, from - (from % 3_600_000)), lt(t.hour, to), q.key_id ? eq(t.keyId, q.key_id) : undefined))
    .groupBy(bucket, t.keyId, t.value)
    .orderBy(asc(bucket), asc(t.keyId), asc(t.value))
    .all();
  return {
    object: "list",
    granularity: q.granularity,
    group_by: kind,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    data: rows.map((r) => ({
      time: new Date(r.bucket).toISOString(),
      key_id: r.keyId,
      [kind]: r.value === "" ? null : r.value,
      requests: r.requests,
      prompt_tokens: r.promptTokens,
      completion_tokens: r.completionTokens,
      cost_usd: r.costMicros / 1_000_000,
    })),
  };
}
