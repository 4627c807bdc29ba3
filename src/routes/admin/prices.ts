import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import * as z from "zod";
import { modelPrices } from "../../db/schema";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { readBody } from "../../lib/request-body";
import { BUILTIN_PRICES } from "../../pricing/catalogue";
import type { ModelPrice } from "../../pricing/price";
import { invalidateCatalogue } from "../../providers/catalogue";

/**
 * Model prices in USD per 1M tokens: the bundled list for built-in providers, plus admin-set
 * prices for custom models (or overrides of built-ins). Stored as integer micro-dollars per 1M.
 */
export const pricesRoutes = new Hono<AppEnv>();

const usdPerMtok = z.number().nonnegative().max(100_000);
export const priceInput = z.strictObject({
  model: z.string().regex(/^[a-z0-9-]{1,32}\/[A-Za-z0-9._:@/-]{1,200}$/, "must be 'provider/model'"),
  input_usd_per_mtok: usdPerMtok,
  output_usd_per_mtok: usdPerMtok,
  cached_input_usd_per_mtok: usdPerMtok.optional(),
  cache_write_usd_per_mtok: usdPerMtok.optional(),
});

const micros = (usd: number) => Math.round(usd * 1_000_000);
const usd = (m: number) => m / 1_000_000;

function priceView(model: string, price: ModelPrice, source: "builtin" | "custom") {
  return {
    model,
    source,
    input_usd_per_mtok: usd(price.input),
    cached_input_usd_per_mtok: usd(price.cachedInput),
    cache_write_usd_per_mtok: usd(price.cacheWrite),
    ...(price.cacheWrite1h === undefined ? {} : { cache_write_1h_usd_per_mtok: usd(price.cacheWrite1h) }),
    output_usd_per_mtok: usd(price.output),
    ...(price.longContext
      ? {
          long_context: {
            above_prompt_tokens: price.longContext.abovePromptTokens,
            input_usd_per_mtok: usd(price.longContext.input),
            output_usd_per_mtok: usd(price.longContext.output),
          },
        }
      : {}),
  };
}

pricesRoutes.get("/", async (c) => {
  const custom = await drizzle(c.env.DB).select().from(modelPrices).all();
  const overridden = new Set(custom.map((p) => p.model));
  const builtin = Object.entries(BUILTIN_PRICES).flatMap(([provider, models]) =>
    Object.entries(models)
      .filter(([model]) => !overridden.has(`${provider}/${model}`))
      .map(([model, price]) => priceView(`${provider}/${model}`, price, "builtin")),
  );
  const admin = custom.map((p) => priceView(p.model, p, "custom"));
  return c.json({ object: "list", data: [...admin, ...builtin] });
});

pricesRoutes.post("/", async (c) => {
  const input = await readBody(c, priceInput);
  const row = {
    model: input.model,
    input: micros(input.input_usd_per_mtok),
    output: micros(input.output_usd_per_mtok),
    cachedInput: micros(input.cached_input_usd_per_mtok ?? input.input_usd_per_mtok),
    cacheWrite: micros(input.cache_write_usd_per_mtok ?? input.input_usd_per_mtok),
    updatedAt: Date.now(),
  };
  await drizzle(c.env.DB).insert(modelPrices).values(row).onConflictDoUpdate({ target: modelPrices.model, set: row });
  invalidateCatalogue();
  return c.json(priceView(row.model, row, "custom"), 201);
});

pricesRoutes.delete("/", async (c) => {
  const model = c.req.query("model");
  if (!model) throw new GatewayError("invalid_request", "Query parameter 'model' is required.");
  const deleted = await drizzle(c.env.DB).delete(modelPrices).where(eq(modelPrices.model, model)).returning().all();
  if (deleted.length === 0) throw new GatewayError("not_found", `No custom price for '${model}'.`);
  invalidateCatalogue();
  return c.json({ model, deleted: true });
});
