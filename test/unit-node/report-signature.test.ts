/**
 * Reports signed as a whole (issue 13): a report trimmed at either end with its range proof
 * rebuilt, a forgery signed by a same-named key under `--key K --trust-embedded`, and an entry
 * whose JSON text is not the canonical bytes that were hashed are all refused, with a reason, by
 * the verification code the page runs and by the CLI. Old (v1) reports say exactly what they lack.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../src/lib/bytes";
import { EXIT_FAILED, EXIT_OK, runVerifyCli } from "../../src/audit/cli";
import { rangeProofFromLeafHashes } from "../../src/audit/merkle-range";
import { generateNoteKeys, parseSignerKey } from "../../src/audit/note-keys";
import type { AuditReport } from "../../src/audit/report";
import { verifyReport, verifyReportText } from "../../src/audit/report-verify";
import { duplicateKey } from "../../src/audit/strict-json";
import { buildLog, makeEntry, reportFor, testSigner, type TestLog } from "../unit/audit/audit-fixtures";

let log: TestLog;
let whole: AuditReport;
let trusted: string[];

beforeAll(async () => {
  log = await buildLog("keyTrim", 10);
  whole = await reportFor(log, { from: 1, to: 10, reportId: "rpt_whole" });
  trusted = [(await testSigner()).verifierKey];
});

/** What a holder of `report` can do with no key: keep entries from..to and rebuild the range proof from the leaves. */
async function trim(report: AuditReport, from: number, to: number): Promise<AuditReport> {
  const first = report.range.from_seq;
  const leaves = report.entries.map((e) => fromHex(e.leaf_hash));
  // The report covers the whole tree here, so every leaf of it is known.
  const proof = await rangeProofFromLeafHashes(leaves, from - 1, to);
  return {
    ...structuredClone(report),
    range: { from_seq: from, to_seq: to },
    entries: report.entries.slice(from - first, to - first + 1),
    range_proof: { left: proof.left.map((h) => toHex(h)), right: proof.right.map((h) => toHex(h)) },
  };
}

const failed = async (report: unknown, keys = trusted) => (await verifyReport(report, keys)).checks.filter((c) => !c.ok);

async function cli(files: Record<string, string>, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runVerifyCli(argv, {
    readText: async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error("ENOENT");
      return text;
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out, err };
}

describe("a trimmed report", () => {
  it.each([
    ["both ends", 3, 8],
    ["the head", 4, 10],
    ["the tail", 1, 7],
    ["down to one entry", 5, 5],
  ])("cut at %s (range proof rebuilt) fails the report signature, naming the issued range", async (_, from, to) => {
    const trimmed = await trim(whole, from, to);
    // Everything a trimmed report carries is still genuine: only the signed range exposes it.
    const failures = await failed(trimmed);
    expect(failures.map((c) => c.name)).toEqual(["report signature"]);
    expect(failures[0]!.detail).toContain(`the gateway issued this report for seq 1..10, but it holds seq ${from}..${to}: entries were cut or added`);
  });

  it("keyforge-verify exits 1 with that reason", async () => {
    const files = { "trimmed.json": JSON.stringify(await trim(whole, 3, 8)), "whole.json": JSON.stringify(whole) };
    expect((await cli(files, "whole.json", "--key", trusted[0]!)).code).toBe(EXIT_OK);
    const { code, out } = await cli(files, "trimmed.json", "--key", trusted[0]!);
    expect(code).toBe(EXIT_FAILED);
    expect(out).toContainEqual(expect.stringMatching(/^FAIL {2}report signature: the gateway issued this report for seq 1\.\.10, but it holds seq 3\.\.8/));
  });

  it("a report presented under another id, or with its id or key id edited, fails", async () => {
    expect((await verifyReport(whole, trusted, { reportId: "rpt_whole" })).ok).toBe(true);
    const elsewhere = (await verifyReport(whole, trusted, { reportId: "rpt_other" })).checks.find((c) => !c.ok);
    expect(elsewhere).toMatchObject({ name: "report signature", detail: expect.stringContaining("this is report rpt_whole, not rpt_other") });
    expect((await failed({ ...whole, report_id: "rpt_other" })).map((c) => c.name)).toEqual(["report signature"]);
    const another = await reportFor(log, { from: 1, to: 10, reportId: "rpt_another" });
    expect((await failed({ ...whole, report_signature: another.report_signature })).map((c) => c.name)).toEqual(["report signature"]);
  });

  it("a version 1 report fails with what it lacks, unless the verifier accepts an unsigned range", async () => {
    const { report_id: _id, report_signature: _sig, version: _v, ...rest } = await trim(whole, 3, 8);
    const v1 = { version: 1, ...rest, entries: rest.entries.map((e) => ({ entry: JSON.parse(e.entry) as unknown, leaf_hash: e.leaf_hash })) };
    const failures = await failed(v1);
    expect(failures.map((c) => c.name)).toEqual(["report signature"]);
    expect(failures[0]!.detail).toContain("a version 1 report: the gateway did not sign its range, so entries cut from either end cannot be detected");
    expect((await verifyReport(v1, trusted, { allowUnsignedRange: true })).ok).toBe(true);
    const files = { "v1.json": JSON.stringify(v1) };
    expect((await cli(files, "v1.json", "--key", trusted[0]!)).code).toBe(EXIT_FAILED);
    expect((await cli(files, "v1.json", "--key", trusted[0]!, "--allow-v1")).code).toBe(EXIT_OK);
  });
});

describe("--trust-embedded never widens a pinned --key", () => {
  it("a forgery signed by an attacker's key of the same name fails under --key K --trust-embedded", async () => {
    const attacker = await parseSignerKey((await generateNoteKeys("keyforge.test/audit")).signerKey);
    expect(attacker.name).toBe((await testSigner()).name);
    const forgedLog = await buildLog("keyTrim", 10, (keyId, seq) => makeEntry(keyId, seq, { cost_micros: 0 }));
    const forged = await reportFor(forgedLog, { from: 1, to: 10, signer: attacker });
    const files = { "forged.json": JSON.stringify(forged) };

    const pinned = await cli(files, "forged.json", "--key", trusted[0]!, "--trust-embedded");
    expect(pinned.code).toBe(EXIT_FAILED);
    expect(pinned.err.join("\n")).toContain("--trust-embedded is ignored: --key pins the trusted keys");
    expect(pinned.out).toContainEqual(
      expect.stringMatching(/^FAIL {2}checkpoint signature: the report names the key keyforge\.test\/audit\+[0-9a-f]{8}, which is not one of the trusted keys/),
    );
    // Alone, --trust-embedded still means what it says: intact, not who issued it.
    expect((await cli(files, "forged.json", "--trust-embedded")).code).toBe(EXIT_OK);
    // The genuine report under the same flags is unaffected.
    expect((await cli({ "whole.json": JSON.stringify(whole) }, "whole.json", "--key", trusted[0]!, "--trust-embedded")).code).toBe(EXIT_OK);
  });
});

describe("entry text that is not the canonical bytes that were hashed", () => {
  it("an entry with a duplicated key is refused even when its leaf hash is of those very bytes", async () => {
    const report = structuredClone(whole);
    const slot = report.entries[4]!;
    // JSON.parse keeps the last cost_micros (the real one); a reader keeping the first sees 0.
    slot.entry = slot.entry.replace('"cost_micros":', '"cost_micros":0,"cost_micros":');
    expect(JSON.parse(slot.entry)).toEqual(JSON.parse(whole.entries[4]!.entry));
    const { leafHash } = await import("../../src/audit/merkle");
    slot.leaf_hash = toHex(await leafHash(new TextEncoder().encode(slot.entry)));
    const failures = await failed(report);
    expect(failures.map((c) => c.name)).toEqual(["entry seq 5", "range proof"]);
    expect(failures[0]!.detail).toContain("not the RFC 8785 form of its content");
    const { code, out } = await cli({ "dup.json": JSON.stringify(report) }, "dup.json", "--key", trusted[0]!);
    expect(code).toBe(EXIT_FAILED);
    expect(out).toContainEqual(expect.stringMatching(/^FAIL {2}entry seq 5: the entry text is not the RFC 8785 form/));
  });

  it("spacing or key order other than RFC 8785 is refused the same way", async () => {
    for (const respell of [
      (t: string) => t.replace(",", ", "),
      (t: string) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(t) as object).reverse())),
    ]) {
      const report = structuredClone(whole);
      report.entries[0]!.entry = respell(report.entries[0]!.entry);
      expect((await failed(report)).map((c) => c.name)).toContain("entry seq 1");
    }
  });

  it("a duplicated key anywhere in the report text is refused before anything else", async () => {
    const text = JSON.stringify(whole).replace('"version":2,', '"version":2,"report_id":"rpt_decoy",');
    const result = await verifyReportText(text, trusted);
    expect(result).toMatchObject({ ok: false, checks: [{ name: "json", ok: false, detail: expect.stringContaining('member "report_id" twice') }] });
    expect((await cli({ "r.json": text }, "r.json", "--key", trusted[0]!)).code).toBe(EXIT_FAILED);
    expect((await verifyReportText(JSON.stringify(whole, null, 2), trusted)).ok).toBe(true);
  });

  it("duplicateKey: per object, after unescaping, not confused by strings or arrays", () => {
    expect(duplicateKey('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}')).toBeNull();
    expect(duplicateKey('{"a":"{\\"a\\":1,\\"a\\":2}","b":"a"}')).toBeNull();
    expect(duplicateKey('{"a":1,"\\u0061":2}')).toBe("a");
    expect(duplicateKey('[{"x":{"y":1,"y":2}}]')).toBe("y");
    expect(duplicateKey('{"k":[1,2],"k":3}')).toBe("k");
  });
});
