import { describe, expect, it } from "vitest";
import { runVerifyCli } from "../src/audit/cli";
import { rangeProofFromLeafHashes } from "../src/audit/merkle-range";
import type { AuditReport } from "../src/audit/report";
import { parseReportStatement } from "../src/audit/report-statement";
import { verifyReportText } from "../src/audit/report-verify";
import { fromHex, toHex } from "../src/lib/bytes";
import { createReport, historyLength, publishedKeys, waitForEntries } from "./support/audit";
import { BASE, chat, createKey, gatewayFetch } from "./support/gateway";

/**
 * A report issued by the gateway is signed as a whole (report id, key id, range, checkpoint): a
 * holder who cuts entries from either end and rebuilds the range proof gets a report that the
 * verification code of the public page (`verifyReportText` with the report id from the address)
 * and the CLI refuse, saying which range was issued. The same for an entry re-spelled with a
 * duplicated key.
 */

/** A whole-log report after `n` requests; `size` counts the key's policy history (key.create) that opens the log too. */
async function issued(n: number): Promise<{ id: string; text: string; body: AuditReport; size: number; h: number }> {
  const key = await createKey();
  for (let i = 0; i < n; i++) expect((await chat(key.key, { model: "mock/echo", messages: [{ role: "user", content: `signed ${i}` }] })).status).toBe(200);
  await waitForEntries(key.id, n);
  const h = await historyLength(key.id);
  const res = await createReport(key.id);
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const text = await (await gatewayFetch(`${BASE}/reports/${id}.json`)).text();
  return { id, text, body: JSON.parse(text) as AuditReport, size: h + n, h };
}

const trusted = async () => (await publishedKeys()).map((k) => k.verifier_key);

/** Keeps seqs from..to of a whole-log report and rebuilds the range proof from its leaves (no key needed). */
async function trim(report: AuditReport, from: number, to: number): Promise<AuditReport> {
  const proof = await rangeProofFromLeafHashes(
    report.entries.map((e) => fromHex(e.leaf_hash)),
    from - 1,
    to,
  );
  return {
    ...report,
    range: { from_seq: from, to_seq: to },
    entries: report.entries.slice(from - 1, to),
    range_proof: { left: proof.left.map((h) => toHex(h)), right: proof.right.map((h) => toHex(h)) },
  };
}

async function cli(text: string): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const keyArgs = (await trusted()).flatMap((k) => ["--key", k]);
  const code = await runVerifyCli(["report.json", ...keyArgs], { readText: async () => text, out: (l) => out.push(l), err: (l) => out.push(l) });
  return { code, out };
}

describe("reports signed as a whole", () => {
  it("the gateway signs the report id, key id, range and checkpoint; the page's check passes for the issued report", async () => {
    const report = await issued(6);
    expect(report.body).toMatchObject({ version: 2, report_id: report.id, range: { from_seq: 1, to_seq: report.size } });
    const statement = parseReportStatement(report.body.report_signature.slice(0, report.body.report_signature.indexOf("\n\n") + 1));
    expect(statement).toMatchObject({ reportId: report.id, keyId: report.body.key_id, fromSeq: 1, toSeq: report.size, checkpoint: { size: report.size } });
    const result = await verifyReportText(report.text, await trusted(), { reportId: report.id });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.find((c) => c.name === "report signature")?.detail).toContain(`report ${report.id}, seq 1..${report.size}`);
    // Shown under another report's address, it fails.
    expect((await verifyReportText(report.text, await trusted(), { reportId: "rpt_0000000000000000000000" })).ok).toBe(false);
  }, 20_000);

  it("a trimmed report (entries cut from both ends, range proof rebuilt) fails in the page's check and the CLI, with the reason", async () => {
    const report = await issued(8);
    const text = JSON.stringify(await trim(report.body, 3, 6));
    const result = await verifyReportText(text, await trusted(), { reportId: report.id });
    expect(result.ok).toBe(false);
    expect(result.checks.filter((c) => !c.ok)).toEqual([
      {
        name: "report signature",
        ok: false,
        detail: expect.stringContaining(`the gateway issued this report for seq 1..${report.size}, but it holds seq 3..6: entries were cut or added`),
      },
    ]);
    const { code, out } = await cli(text);
    expect(code).toBe(1);
    expect(out).toContainEqual(
      expect.stringContaining(`FAIL  report signature: the gateway issued this report for seq 1..${report.size}, but it holds seq 3..6`),
    );
    // Cut at one end only: the same.
    expect((await cli(JSON.stringify(await trim(report.body, 1, report.size - 1)))).code).toBe(1);
    expect((await cli(JSON.stringify(await trim(report.body, 2, report.size)))).code).toBe(1);
  }, 20_000);

  it("an entry re-spelled with a duplicated key (JSON.parse keeps the last) is refused", async () => {
    const report = await issued(3);
    const text = report.text.replace('\\"cost_micros\\":', '\\"cost_micros\\":0,\\"cost_micros\\":');
    expect(text).not.toBe(report.text);
    const result = await verifyReportText(text, await trusted());
    // The first request entry (the first entry with a cost_micros field), after the key's history.
    expect(result.checks.find((c) => c.name === `entry seq ${report.h + 1}`)).toMatchObject({
      ok: false,
      detail: expect.stringContaining("not the RFC 8785 form"),
    });
    expect((await cli(text)).code).toBe(1);
  }, 20_000);
});
