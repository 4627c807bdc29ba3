/**
 * Shareable reports: build → verify passes line by line; any byte flipped in the serialized
 * JSON makes parsing or verification fail; targeted tampering names the failing check; and the
 * trust model: an embedded key proves integrity, only a trusted key proves origin.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { generateNoteKeys, parseSignerKey } from "../../../src/audit/note-keys";
import { auditReportSchema, type AuditReport } from "../../../src/audit/report";
import { verifyReport } from "../../../src/audit/report-verify";
import { buildLog, editEntry, makeEntry, reportFor, signedCheckpointAt, testSigner, type TestLog } from "./audit-fixtures";

let log: TestLog;
let report: AuditReport;
let trusted: string[];

beforeAll(async () => {
  log = await buildLog("keyR", 11);
  report = await reportFor(log, { from: 4, to: 7, size: 11, previousSize: 5 });
  trusted = [(await testSigner()).verifierKey];
});

const clone = (r: AuditReport): AuditReport => structuredClone(r);
const failedChecks = async (r: unknown, keys = trusted) => (await verifyReport(r, keys)).checks.filter((c) => !c.ok).map((c) => c.name);

describe("round trip", () => {
  it("verifies a freshly built report with every check listed", async () => {
    const result = await verifyReport(JSON.parse(JSON.stringify(report)), trusted);
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => c.name)).toEqual([
      "schema",
      "trusted keys",
      "checkpoint signature",
      "checkpoint",
      "report signature",
      "range",
      "entry seq 4",
      "entry seq 5",
      "entry seq 6",
      "entry seq 7",
      "range proof",
      "consistency",
    ]);
    expect(result.checks.every((c) => c.detail.length > 0)).toBe(true);
  });

  it("verifies single-entry, whole-log and no-previous reports", async () => {
    for (const opts of [
      { from: 1, to: 1 },
      { from: 11, to: 11 },
      { from: 1, to: 11 },
      { from: 2, to: 9, size: 9, previousSize: 9 },
    ]) {
      const r = await reportFor(log, opts);
      expect(await failedChecks(r)).toEqual([]);
    }
  });

  it("accepts the earlier checkpoint the auditor kept, and refuses another one", async () => {
    const kept = await signedCheckpointAt(log, 5);
    expect((await verifyReport(report, trusted, { previousCheckpoint: kept })).ok).toBe(true);
    const other = await signedCheckpointAt(log, 6);
    expect((await verifyReport(report, trusted, { previousCheckpoint: other })).ok).toBe(false);
  });

  it("schema is strict", () => {
    expect(auditReportSchema.safeParse({ ...report, extra: true }).success).toBe(false);
    expect(auditReportSchema.safeParse({ ...report, entries: [] }).success).toBe(false);
  });
});

describe("tampering", () => {
  it("any byte changed in the serialized report fails parsing or verification", async () => {
    const text = JSON.stringify(report);
    const bytes = new TextEncoder().encode(text);
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), async (at, delta) => {
        const mutated = bytes.slice();
        mutated[at] = ((mutated[at] as number) + delta) % 256;
        let parsed: unknown;
        try {
          parsed = JSON.parse(new TextDecoder().decode(mutated));
        } catch {
          return; // not JSON any more: rejected
        }
        expect((await verifyReport(parsed, trusted)).ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it.each<[string, (r: AuditReport) => void, string[]]>([
    ["an entry's cost", (r) => editEntry(r, 1, (e) => void (e.cost_micros += 1)), ["entry seq 5", "range proof"]],
    [
      "an entry and its leaf hash",
      (r) => {
        editEntry(r, 1, (e) => void (e.model = "gpt-cheap"));
        r.entries[1]!.leaf_hash = r.entries[2]!.leaf_hash;
      },
      ["entry seq 5", "range proof"],
    ],
    [
      "a dropped entry",
      (r) => {
        r.entries.splice(1, 1);
        r.range.to_seq -= 1;
      },
      ["report signature", "entry seq 5", "entry seq 6", "range proof"],
    ],
    ["two swapped entries", (r) => void ([r.entries[0], r.entries[1]] = [r.entries[1]!, r.entries[0]!]), ["entry seq 4", "entry seq 5", "range proof"]],
    ["a proof hash", (r) => void (r.range_proof.right[0] = "0".repeat(64)), ["range proof"]],
    ["the range", (r) => void (r.range.from_seq = 3), ["report signature", "range", "entry seq 3", "entry seq 4", "entry seq 5", "entry seq 6"]],
    ["the origin", (r) => void (r.origin = "keyforge.test/audit/other"), ["checkpoint"]],
    [
      "the key id",
      (r) => {
        r.key_id = "keyX";
      },
      ["checkpoint", "entry seq 4", "entry seq 5", "entry seq 6", "entry seq 7"],
    ],
    ["the consistency proof", (r) => void r.previous!.consistency_proof.pop(), ["consistency"]],
  ])("names the failing check for %s", async (_, mutate, failing) => {
    const r = clone(report);
    mutate(r);
    expect(await failedChecks(r)).toEqual(failing);
  });

  it("a checkpoint re-signed by another key fails unless that key is trusted: integrity is not origin", async () => {
    const attacker = await parseSignerKey((await generateNoteKeys("keyforge.test/audit")).signerKey);
    const forgedLog = await buildLog("keyR", 11, (keyId, seq) => makeEntry(keyId, seq, { cost_micros: 0 }));
    const forged = await reportFor(forgedLog, { from: 4, to: 7, signer: attacker });
    expect(await failedChecks(forged)).toEqual(["checkpoint signature"]);
    // Trusting the embedded key (what --trust-embedded does) makes the forgery "verify".
    expect(await failedChecks(forged, [forged.verifier_key])).toEqual([]);
  });

  it("fails without trusted keys, with a malformed one, or with a report naming another key", async () => {
    expect(await failedChecks(report, [])).toEqual(["trusted keys", "checkpoint signature"]);
    expect(await failedChecks(report, ["not a key"])).toEqual(["trusted keys", "checkpoint signature"]);
    const other = clone(report);
    other.verifier_key = (await generateNoteKeys("keyforge.test/audit")).verifierKey;
    expect(await failedChecks(other, [...trusted, other.verifier_key])).toEqual(["checkpoint signature"]);
  });

  it("reports a schema failure as a single failing check", async () => {
    const result = await verifyReport({ version: 2 }, trusted);
    expect(result).toMatchObject({ ok: false, checks: [{ name: "schema", ok: false }] });
    expect((await verifyReport("nope", trusted)).ok).toBe(false);
  });
});
