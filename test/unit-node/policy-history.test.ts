import { describe, expect, it } from "vitest";
import { adminEntryText } from "../../durable-objects/key-guard-audit";
import { policyHistoryToCopy, type ControlPlaneRow } from "../../src/keys/policy-history";

/** Which control-plane entries a key's KeyGuard copies into its own log at first use (issue 15). */

const KEY = "k1";
const t0 = Date.now();

function row(
  seq: number,
  action: string,
  change: Record<string, { before: unknown; after: unknown }> | null,
  over: { target?: string; refSeq?: number } = {},
): ControlPlaneRow {
  return {
    seq,
    entry: adminEntryText(seq, {
      logId: "control-plane",
      ts: t0 + seq,
      requestId: `req_${seq}`,
      actor: seq % 2 ? "root" : "alice",
      action,
      target: over.target ?? `key:${KEY}`,
      change,
      ...(over.refSeq === undefined ? {} : { refSeq: over.refSeq }),
    }),
  };
}

const create = row(3, "key.create", { name: { before: null, after: "a" }, rpm: { before: null, after: 10 } });
const patch = row(7, "key.patch", { rpm: { before: 10, after: 20 } });

describe("policyHistoryToCopy", () => {
  it("keeps actor, time, request id and change, and names each control-plane seq", () => {
    expect(policyHistoryToCopy([patch, create], KEY, 2)).toEqual([
      {
        ts: t0 + 3,
        requestId: "req_3",
        actor: "root",
        action: "key.create",
        target: `key:${KEY}`,
        change: { name: { before: null, after: "a" }, rpm: { before: null, after: 10 } },
        refSeq: 3,
      },
      { ts: t0 + 7, requestId: "req_7", actor: "root", action: "key.patch", target: `key:${KEY}`, change: { rpm: { before: 10, after: 20 } }, refSeq: 7 },
    ]);
  }, 10_000);

  it("skips other keys, other actions, changes a `failed` entry names, and a revoke that changed nothing", () => {
    const rows = [
      create,
      row(4, "key.patch", { rpm: { before: 10, after: 11 } }, { target: "key:other" }),
      row(5, "key.patch", { rpm: { before: 10, after: 30 } }),
      row(6, "failed", null, { refSeq: 5 }),
      row(8, "keys.audit.reports.post", null),
      row(9, "key.revoke", { revoked_at: { before: null, after: t0 } }),
      row(10, "key.revoke", null),
    ];
    expect(policyHistoryToCopy(rows, KEY, 2).map((e) => e.refSeq)).toEqual([3, 9]);
  }, 10_000);

  it("stops at the activated version: a change recorded but not yet written is left to its push", () => {
    const inFlight = row(11, "key.rotate", { last4: { before: "abcd", after: "wxyz" } });
    expect(policyHistoryToCopy([create, patch, inFlight], KEY, 2).map((e) => e.refSeq)).toEqual([3, 7]);
    expect(policyHistoryToCopy([create, patch, inFlight], KEY, 3).map((e) => e.refSeq)).toEqual([3, 7, 11]);
    // A record from before versions: no bound.
    expect(policyHistoryToCopy([create, patch, inFlight], KEY, undefined)).toHaveLength(3);
  }, 10_000);

  it("ignores rows that are not admin entries", () => {
    expect(policyHistoryToCopy([{ seq: 1, entry: "{" }, { seq: 2, entry: '{"v":1,"seq":2}' }, create], KEY, 5).map((e) => e.refSeq)).toEqual([3]);
  }, 10_000);
});
