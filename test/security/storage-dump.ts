import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";

/**
 * Everything KeyForge has stored, as text, for leak checks: every D1 table, and every table of the
 * given Durable Objects' SQLite storage (KeyGuard: ledger, audit entries, checkpoints…; ProviderPool).
 */

const USER_TABLES = "select name from sqlite_master where type = 'table' and name not like '\\_cf%' escape '\\' and name not like 'sqlite%'";

export interface Dump {
  /** `table` → JSON of all its rows. */
  tables: Record<string, string>;
  rows: number;
}

export async function dumpD1(): Promise<Dump> {
  const names = (await env.DB.prepare(USER_TABLES).all<{ name: string }>()).results.map((r) => r.name);
  const tables: Record<string, string> = {};
  let rows = 0;
  for (const name of names) {
    const result = await env.DB.prepare(`select * from "${name}"`).all();
    rows += result.results.length;
    tables[`d1.${name}`] = JSON.stringify(result.results);
  }
  return { tables, rows };
}

/** All tables of a Durable Object's SQLite storage (BLOBs decoded as UTF-8, so text hidden in them shows). */
export function dumpDurableObject(stub: DurableObjectStub, label: string): Promise<Dump> {
  return runInDurableObject(stub, (_instance: unknown, state) => {
    const sql = state.storage.sql;
    const tables: Record<string, string> = {};
    let rows = 0;
    for (const { name } of sql.exec<{ name: string }>(USER_TABLES).toArray()) {
      const all = sql.exec(`select * from "${name}"`).toArray();
      rows += all.length;
      tables[`${label}.${name}`] = JSON.stringify(all, (_k, v: unknown) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : v));
    }
    return { tables, rows };
  });
}
