import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RESERVATION_TTL_MS } from "../durable-objects/key-guard";
import { loadKeyRecord } from "../src/keys/catalogue";
import { createKey } from "./support/gateway";
import { testNow } from "./support/clock";
import { admitRequest, guardOf, setClock, sqlRows } from "./support/key-guard";

/**
 * Model-based test of a key's KeyGuard: random sequences of admit, settle, duplicate settle, alarm
 * expiry, revoke and policy change. After every step the invariants must hold:
 *   - reserved equals the sum of open reservations (and is 0 when nothing is open);
 *   - recorded spend never exceeds the cap, recorded tokens never exceed the quota;
 *   - every admitted request ends settled or expired exactly once.
 */

interface Open {
  requestId: string;
  tokens: number;
  costMicros: number;
}
interface Model {
  open: Open[];
  closed: Set<string>;
  next: number;
  now: number;
  revoked: boolean;
  capMicros: number;
  quota: number;
}
interface Real {
  key: { id: string; key: string };
}

const PROMPT = 10;
// mock/echo prices: 1 µ$ per input token, 2 µ$ per output token.
const cost = (prompt: number, completion: number) => prompt + 2 * completion;

async function invariants(m: Model, r: Real) {
  const [reserved] = await sqlRows<{ tokens: number | null; cost: number | null; n: number }>(
    r.key.id,
    "select sum(tokens) as tokens, sum(cost_micros) as cost, count(*) as n from reservations",
  );
  expect(reserved!.n).toBe(m.open.length);
  expect(reserved!.tokens ?? 0).toBe(m.open.reduce((s, o) => s + o.tokens, 0));
  expect(reserved!.cost ?? 0).toBe(m.open.reduce((s, o) => s + o.costMicros, 0));
  const ledger = await sqlRows<{ tokens: number; spend_micros: number; requests: number }>(r.key.id, "select * from ledger");
  const spend = ledger.reduce((s, l) => s + l.spend_micros, 0);
  const tokens = ledger.reduce((s, l) => s + l.tokens, 0);
  expect(spend).toBeLessThanOrEqual(m.capMicros);
  expect(tokens).toBeLessThanOrEqual(m.quota);
  expect(ledger.reduce((s, l) => s + l.requests, 0)).toBe(m.closed.size);
  const audit = await sqlRows<{ entry: string }>(r.key.id, "select entry from audit_entries");
  const ends = audit
    .map((a) => JSON.parse(a.entry) as { request_id: string; status: number | string })
    .filter((e) => e.status === 200 || e.status === "expired");
  expect(ends.map((e) => e.request_id).sort()).toEqual([...m.closed].sort());
}

class Admit implements fc.AsyncCommand<Model, Real> {
  constructor(readonly maxTokens: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const requestId = `r${m.next++}`;
    const result = await guardOf(r.key.id).admit(await admitRequest(r.key, requestId, { promptTokens: PROMPT, maxTokens: this.maxTokens }));
    const worst = { tokens: PROMPT + this.maxTokens, costMicros: cost(PROMPT, this.maxTokens) };
    if (result.ok) {
      expect(m.revoked).toBe(false);
      m.open.push({ requestId, ...worst });
    } else if (m.revoked) {
      expect(result.code).toBe("key_revoked");
    } else {
      expect(["spend_cap_exceeded", "quota_exceeded"]).toContain(result.code);
    }
    await invariants(m, r);
  }
  toString = () => `admit(${this.maxTokens})`;
}

class Settle implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly fraction: number,
    readonly twice: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.open.length > 0;
  async run(m: Model, r: Real) {
    const [open] = m.open.splice(this.pick % m.open.length, 1) as [Open];
    const completion = Math.floor((open.tokens - PROMPT) * this.fraction);
    const req = {
      requestId: open.requestId,
      status: 200,
      promptTokens: PROMPT,
      completionTokens: completion,
      costMicros: cost(PROMPT, completion),
      latencyMs: 5,
    };
    expect(await guardOf(r.key.id).settle(req)).toEqual({ settled: true });
    if (this.twice) expect(await guardOf(r.key.id).settle(req)).toEqual({ settled: false });
    m.closed.add(open.requestId);
    await invariants(m, r);
  }
  toString = () => `settle(${this.pick}, ${this.fraction.toFixed(2)}, twice=${this.twice})`;
}

class Expire implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    m.now += RESERVATION_TTL_MS + 1;
    await setClock(r.key.id, m.now);
    await runDurableObjectAlarm(guardOf(r.key.id));
    for (const o of m.open) m.closed.add(o.requestId);
    m.open = [];
    await invariants(m, r);
  }
  toString = () => "expire-all";
}

/** Versions of the records pushed below: a KeyGuard applies only a newer version than it holds. */
let pushes = 1_000;

class Revoke implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => !m.revoked;
  async run(m: Model, r: Real) {
    const record = (await loadKeyRecord(env.DB, r.key.id))!;
    await guardOf(r.key.id).configure({ ...record, revokedAt: m.now, version: ++pushes });
    m.revoked = true;
    await invariants(m, r);
  }
  toString = () => "revoke";
}

class ChangePolicy implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly capMicros: number,
    readonly quota: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const record = (await loadKeyRecord(env.DB, r.key.id))!;
    const [spent] = await sqlRows<{ spend: number | null; tokens: number | null }>(
      r.key.id,
      "select sum(spend_micros) as spend, sum(tokens) as tokens from ledger",
    );
    // A cap can shrink, but never below what is already spent (that would make the invariant vacuous).
    m.capMicros = Math.max(this.capMicros, (spent!.spend ?? 0) + m.open.reduce((s, o) => s + o.costMicros, 0));
    m.quota = Math.max(this.quota, (spent!.tokens ?? 0) + m.open.reduce((s, o) => s + o.tokens, 0));
    await guardOf(r.key.id).configure({
      ...record,
      revokedAt: m.revoked ? m.now : null,
      spendCapMicros: m.capMicros,
      monthlyTokenQuota: m.quota,
      version: ++pushes,
    });
    await invariants(m, r);
  }
  toString = () => `policy(cap=${this.capMicros}, quota=${this.quota})`;
}

describe("KeyGuard model-based", () => {
  it("keeps its invariants over random admit / settle / expire / revoke / policy sequences", async () => {
    const commands = [
      fc.integer({ min: 1, max: 200 }).map((n) => new Admit(n)),
      fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()).map(([p, f, t]) => new Settle(p, f, t)),
      fc.constant(new Expire()),
      fc.constant(new Revoke()),
      fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 3_000 })).map(([c, q]) => new ChangePolicy(c, q)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (cmds) => {
        const key = await createKey({ spend_cap_usd: 0.002, monthly_token_quota: 1200 });
        const now = testNow();
        await setClock(key.id, now);
        const model: Model = { open: [], closed: new Set(), next: 0, now, revoked: false, capMicros: 2000, quota: 1200 };
        await fc.asyncModelRun(() => ({ model, real: { key } }), cmds);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
