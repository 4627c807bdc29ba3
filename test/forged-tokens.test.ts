import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { KeyGuard } from "../durable-objects/key-guard";
import { UNKNOWN_KEY_TTL_MS } from "../src/keys/unknown-keys";
import { hashKeySecret } from "../src/keys/secret-hash";
import { checksumOf, randomBase62 } from "../src/keys/token";
import { testNow } from "./support/clock";
import { countD1, keyQueries } from "./support/d1-queries";
import { BASE, chat, gatewayFetch } from "./support/gateway";
import { admitRequest, guardOf, setClock } from "./support/key-guard";
import { TEST_SECRETS } from "./support/test-secrets";

/**
 * Forged tokens: the checksum is a public CRC-32, so anyone can mint well-formed `vk_` tokens with
 * random ids. Each must cost no Durable Object storage (a KeyGuard writes nothing until it holds a
 * record), at most one D1 query per new id, and nothing at all when the same id comes back (negative
 * caches in the Worker isolate and in the KeyGuard). `FUZZ_SCALE` scales the count; the 10,000 of
 * docs/security.md come from scripts/measure-forged-tokens.mjs (batches of 250).
 */

declare module "vitest" {
  interface ProvidedContext {
    fuzzScale: number;
  }
}

const N = Math.max(1, Math.round(50 * inject("fuzzScale")));
const say = { model: "mock/echo", messages: [{ role: "user", content: "forged" }] };

function forged(): { id: string; secret: string; token: string } {
  const id = randomBase62(16);
  const secret = randomBase62(32);
  return { id, secret, token: `vk_${id}${secret}${checksumOf(id, secret)}` };
}

async function outcome(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code: string } };
  return `${res.status} ${body.error?.code ?? ""}`;
}

/** `items` through `fn`, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

/**
 * Every SQL statement any Durable Object in this isolate runs while `run` executes, with the rows it
 * wrote. The objects share the test's isolate, so wrapping SqlStorage's prototype sees them all.
 */
async function countDoSql<T>(run: () => Promise<T>): Promise<{ result: T; statements: string[]; rowsWritten: number }> {
  const sql = await runInDurableObject(guardOf("forged-tokens-probe"), (_instance, state) => state.storage.sql);
  const proto = Object.getPrototypeOf(sql) as { exec: (query: string, ...bindings: unknown[]) => SqlStorageCursor<Record<string, SqlStorageValue>> };
  const original = proto.exec;
  const statements: string[] = [];
  const cursors: Array<SqlStorageCursor<Record<string, SqlStorageValue>>> = [];
  proto.exec = function (this: SqlStorage, query: string, ...bindings: unknown[]) {
    const cursor = original.call(this, query, ...bindings);
    statements.push(query);
    cursors.push(cursor);
    return cursor;
  };
  try {
    const result = await run();
    return { result, statements, rowsWritten: cursors.reduce((sum, c) => sum + c.rowsWritten, 0) };
  } finally {
    proto.exec = original;
  }
}

/**
 * What a KeyGuard has stored: its tables (no table, no row) and whether an alarm is set. Locally every
 * object that was ever called has a database file, so the file's existence says nothing; its content does.
 */
async function stored(id: string): Promise<{ tables: number; alarm: boolean }> {
  return runInDurableObject(guardOf(id), async (_instance, state) => ({
    tables: state.storage.sql.exec("select name from sqlite_master where name not like '_cf_%'").toArray().length,
    alarm: (await state.storage.getAlarm()) !== null,
  }));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("forged tokens", () => {
  it(
    `${N} well-formed forged tokens: each 401, no KeyGuard storage, at most one D1 query per id`,
    async () => {
      const tokens = Array.from({ length: N }, forged);
      const started = Date.now();
      const {
        result: d1,
        statements,
        rowsWritten,
      } = await countDoSql(() => countD1(() => inBatches(tokens, 16, async (t) => outcome(await chat(t.token, say)))));
      const { result, queries } = d1;
      const ms = Date.now() - started;
      expect(new Set(result)).toEqual(new Set(["401 invalid_api_key"]));

      // No KeyGuard wrote anything: every statement they ran was a read of the schema.
      expect(rowsWritten).toBe(0);
      expect(statements.filter((q) => !/^\s*select\b/i.test(q))).toEqual([]);
      for (const t of tokens.slice(0, 5)) expect(await stored(t.id)).toEqual({ tables: 0, alarm: false });

      const keyReads = keyQueries(queries);
      expect(keyReads.length).toBeLessThanOrEqual(N);
      expect(keyReads.every((q) => /^update "virtual_keys"/i.test(q) && /returning/i.test(q))).toBe(true);
      console.log(
        `[forged] ${N} distinct forged tokens in ${ms} ms: ${N} × 401, KeyGuard SQL statements: ${statements.length} (all reads), rows written: ${rowsWritten}, ` +
          `D1 key lookups: ${keyReads.length} (each an UPDATE … RETURNING of 0 rows), D1 queries in all: ${queries.length}`,
      );
    },
    Math.max(120_000, N * 200),
  );

  it("the same forged token again costs no D1 query and no KeyGuard call, on both /v1 routes", async () => {
    const t = forged();
    expect(await outcome(await chat(t.token, say))).toBe("401 invalid_api_key");
    const admits = vi.spyOn(KeyGuard.prototype, "admit");
    const authorizations = vi.spyOn(KeyGuard.prototype, "authorize");
    const { result, queries } = await countD1(async () => {
      const out: string[] = [];
      for (let i = 0; i < 50; i++) out.push(await outcome(await chat(t.token, say)));
      for (let i = 0; i < 10; i++) {
        out.push(await outcome(await gatewayFetch(`${BASE}/v1/models`, { headers: { authorization: `Bearer ${t.token}` } })));
      }
      return out;
    });
    expect(new Set(result)).toEqual(new Set(["401 invalid_api_key"]));
    expect(keyQueries(queries)).toEqual([]);
    expect([admits.mock.calls.length, authorizations.mock.calls.length]).toEqual([0, 0]);
    console.log(`[forged] one forged token repeated 60 times: D1 key lookups after the first: ${keyQueries(queries).length}`);
    expect(await stored(t.id)).toEqual({ tables: 0, alarm: false });
  });

  it("the KeyGuard remembers an unknown id for every isolate, until its TTL", async () => {
    const t = forged();
    const request = await admitRequest({ id: t.id, key: t.token }, "forged-1");
    const stub = guardOf(t.id);
    const first = await countD1(async (): Promise<unknown> => stub.admit(request));
    expect(first.result).toMatchObject({ ok: false, code: "invalid_api_key" });
    expect(keyQueries(first.queries)).toHaveLength(1);
    const again = await countD1(async (): Promise<unknown[]> => [await stub.admit(request), await stub.authorize(t.id, request.secretHash)]);
    expect(again.result).toMatchObject([
      { ok: false, code: "invalid_api_key" },
      { ok: false, code: "invalid_api_key" },
    ]);
    expect(keyQueries(again.queries)).toHaveLength(0);

    await setClock(t.id, testNow() + UNKNOWN_KEY_TTL_MS + 1_000);
    const later = await countD1(async (): Promise<unknown> => stub.admit(request));
    expect(later.result).toMatchObject({ ok: false, code: "invalid_api_key" });
    expect(keyQueries(later.queries)).toHaveLength(1);
    expect(await stored(t.id)).toEqual({ tables: 0, alarm: false });
  });

  it("an id that becomes a key after a miss is served once the negative entries expire", async () => {
    const t = forged();
    expect(await outcome(await chat(t.token, say))).toBe("401 invalid_api_key");
    // A key with exactly that id appears (creation draws ids at random, so this is only a bound).
    const now = Date.now();
    await env.DB.prepare("insert into virtual_keys (id, name, secret_hash, last4, created_at, updated_at) values (?, 'late', ?, ?, ?, ?)")
      .bind(t.id, await hashKeySecret(TEST_SECRETS.KEY_PEPPER, t.id, t.secret), t.secret.slice(-4), now, now)
      .run();
    expect(await outcome(await chat(t.token, say))).toBe("401 invalid_api_key");

    // Past both TTLs (this isolate's clock and the KeyGuard's), the key works.
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => realNow() + UNKNOWN_KEY_TTL_MS + 1_000);
    expect((await chat(t.token, say)).status).toBe(200);
  });
});
