// The forged-token figure of docs/security.md: sends TOTAL well-formed forged tokens (distinct random
// ids) through the gateway and adds up what test/forged-tokens.test.ts measures for each batch — D1
// statements, and SQL statements and rows written by KeyGuards. The batches run in separate workerd
// processes because the local runtime gets slower with every Durable Object id it has seen (each batch
// of 250 is ~linear; 10,000 in one process would take hours). Usage: node scripts/measure-forged-tokens.mjs [total]
import { spawnSync } from "node:child_process";

const BATCH = 250; // FUZZ_SCALE=5 × the test's 50
const total = Number(process.argv[2] ?? 10_000);
const sum = { tokens: 0, rejected: 0, doStatements: 0, rowsWritten: 0, keyLookups: 0, d1: 0, ms: 0 };
const LINE =
  /\[forged\] (\d+) distinct forged tokens in (\d+) ms: (\d+) × 401, KeyGuard SQL statements: (\d+) \(all reads\), rows written: (\d+), D1 key lookups: (\d+) .*D1 queries in all: (\d+)/;

for (let sent = 0; sent < total; sent += BATCH) {
  const run = spawnSync("npx", ["vitest", "run", "test/forged-tokens.test.ts", "-t", "well-formed"], {
    env: { ...process.env, FUZZ_SCALE: "5" },
    encoding: "utf8",
    timeout: 600_000,
  });
  const match = LINE.exec(run.stdout ?? "");
  if (!match) {
    console.error(`batch ${sent / BATCH + 1}: no figure (exit ${run.status})\n${(run.stdout ?? "").slice(-2000)}`);
    process.exit(1);
  }
  const [tokens, ms, rejected, doStatements, rowsWritten, keyLookups, d1] = match.slice(1).map(Number);
  Object.assign(sum, {
    tokens: sum.tokens + tokens,
    ms: sum.ms + ms,
    rejected: sum.rejected + rejected,
    doStatements: sum.doStatements + doStatements,
    rowsWritten: sum.rowsWritten + rowsWritten,
    keyLookups: sum.keyLookups + keyLookups,
    d1: sum.d1 + d1,
  });
  console.log(`batch ${sent / BATCH + 1}: ${match[0]}`);
}
console.log(
  `[forged] total: ${sum.tokens} distinct forged tokens, ${sum.rejected} × 401; KeyGuard SQL statements ${sum.doStatements} (all reads), ` +
    `rows written ${sum.rowsWritten}; D1 key lookups ${sum.keyLookups}, D1 queries in all ${sum.d1}; ${sum.ms} ms of requests`,
);
