import { describe, expect, it } from "vitest";
import { adminEntryText } from "../../durable-objects/key-guard-audit";
import { parseCanonicalEntry, isAdminEntry } from "../../src/audit/canonical-json";
import { policyDiff } from "../../src/keys/policy-diff";
import { matchSecret } from "../../src/keys/rotation";
import type { KeyRecord } from "../../src/keys/types";

/** Pure parts of issue 15: the admin entry kind, policy diffs, and which secret a hash is. */

const fields = { logId: "control-plane", ts: Date.now(), requestId: "req_1", actor: "root", action: "key.patch", target: "key:abc" };

describe("admin audit entries", () => {
  it("are canonical, parse as the admin kind, and never throw on odd values", () => {
    const text = adminEntryText(3, { ...fields, change: { spend: { before: 1.5, after: Number.NaN }, meta: { before: null, after: { a: "\uD800" } } } });
    const entry = parseCanonicalEntry(new TextEncoder().encode(text));
    expect(isAdminEntry(entry)).toBe(true);
    expect(entry).toMatchObject({ seq: 3, kind: "admin", change: { spend: { before: "1.5", after: "NaN" } } });
  }, 10_000);

  it("replace an action outside the pattern and keep ref_seq", () => {
    const entry = parseCanonicalEntry(new TextEncoder().encode(adminEntryText(4, { ...fields, action: "POST /x", change: null, refSeq: 2 })));
    expect(entry).toMatchObject({ action: "unknown", ref_seq: 2, change: null });
  }, 10_000);
});

const record = (over: Partial<KeyRecord> = {}): KeyRecord => ({
  id: "k",
  name: "n",
  secretHash: "a".repeat(64),
  last4: "abcd",
  models: [],
  monthlyTokenQuota: null,
  spendCapMicros: null,
  rpm: 10,
  tpm: null,
  expiresAt: null,
  metadata: {},
  revokedAt: null,
  activatedAt: null,
  createdAt: 1,
  updatedAt: 1,
  version: 1,
  ...over,
});

describe("policyDiff", () => {
  it("lists only the fields that differ, never the secret hash", () => {
    expect(policyDiff(record(), record({ rpm: 20, secretHash: "b".repeat(64) }))).toEqual({ rpm: { before: 10, after: 20 } });
    expect(policyDiff(record(), record())).toBeNull();
    expect(JSON.stringify(policyDiff(null, record()))).not.toContain("a".repeat(64));
  }, 10_000);
});

describe("matchSecret", () => {
  const eq = (a: string, b: string) => a === b;
  const r = { secretHash: "new", previousSecretHash: "old", previousSecretUntil: 1000 };
  it.each([
    ["new", 5000, "current"],
    ["old", 999, "previous"],
    ["old", 1000, "rotated"],
    ["other", 0, null],
  ] as const)("%s at %d is %s", (given, now, expected) => {
    expect(matchSecret(r, given, now, eq)).toBe(expected);
  });
});
