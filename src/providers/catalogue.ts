import { drizzle } from "drizzle-orm/d1";
import { modelPrices, providers } from "../db/schema";
import { TtlCache } from "../lib/ttl-cache";
import type { ModelPrice } from "../pricing/price";

/** Custom providers and admin-set prices from D1, cached per isolate (stale-while-revalidate). */

export interface CustomProvider {
  name: string;
  type: string;
  baseUrl: string;
}

export interface Catalogue {
  providers: Map<string, CustomProvider>;
  /** Admin prices keyed by canonical `provider/model`. */
  prices: Map<string, ModelPrice>;
}

const CATALOGUE_TTL_MS = 30_000;
const cache = new TtlCache<Catalogue>(CATALOGUE_TTL_MS);

async function loadCatalogue(db: D1Database): Promise<Catalogue> {
  const orm = drizzle(db);
  const [providerRows, priceRows] = await Promise.all([orm.select().from(providers).all(), orm.select().from(modelPrices).all()]);
  return {
    providers: new Map(providerRows.map((p) => [p.name, { name: p.name, type: p.type, baseUrl: p.baseUrl }])),
    prices: new Map(priceRows.map((p) => [p.model, adminPrice(p)])),
  };
}

/**
 * An admin price row as a ModelPrice. The admin API takes one cache-write price (Anthropic's 5-minute
 * writes); Anthropic always bills 1-hour writes at 2× input, so they are never charged less than that.
 */
function adminPrice(p: { model: string; input: number; cachedInput: number; cacheWrite: number; output: number }): ModelPrice {
  const price: ModelPrice = { input: p.input, cachedInput: p.cachedInput, cacheWrite: p.cacheWrite, output: p.output };
  return p.model.startsWith("anthropic/") ? { ...price, cacheWrite1h: Math.max(p.cacheWrite, 2 * p.input) } : price;
}

export function getCatalogue(db: D1Database, waitUntil?: (p: Promise<unknown>) => void): Promise<Catalogue> {
  return cache.get("catalogue", () => loadCatalogue(db), waitUntil);
}

/** Admin writes call this so their change is visible to this isolate at once (others within the TTL). */
export function invalidateCatalogue(): void {
  cache.delete("catalogue");
}
