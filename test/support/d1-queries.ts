import { env } from "cloudflare:workers";

/**
 * Counts the D1 statements the Worker and its Durable Objects prepare while `run` executes. They all
 * live in this test's isolate and share one D1Database class, so wrapping its prototype sees every
 * query (drizzle prepares one statement per query). Only for files whose tests run one at a time.
 */
export async function countD1<T>(run: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const proto = Object.getPrototypeOf(env.DB) as { prepare: (query: string) => unknown };
  const original = proto.prepare;
  const queries: string[] = [];
  proto.prepare = function (this: unknown, query: string) {
    queries.push(query);
    return original.call(this, query);
  };
  try {
    return { result: await run(), queries };
  } finally {
    proto.prepare = original;
  }
}

/** The statements that read or write the virtual-key catalogue. */
export const keyQueries = (queries: string[]) => queries.filter((q) => q.includes("virtual_keys"));
