/**
 * The offline verifier as users run it: build bin/keyforge-verify.mjs, write a report made with
 * the library to a temp file, and check the exit codes of `node bin/keyforge-verify.mjs` and of
 * `npx keyforge-verify` (npx resolves the root package's own bin) for valid and tampered reports.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainEntry, deriveChainKey, genesisHash } from "../../src/audit/chain";
import { checkpointOrigin, signCheckpoint } from "../../src/audit/checkpoint";
import { rangeProof } from "../../src/audit/merkle-range";
import { appendLeaf, rootAt } from "../../src/audit/merkle-store";
import type { MerkleNodeStore } from "../../src/audit/merkle-store";
import { noteKeysFromSeed, parseSignerKey } from "../../src/audit/note-keys";
import { buildReport, entryLeafHash, signReport, type AuditReport } from "../../src/audit/report";
import { canonicalJson, type AuditEntry } from "../../src/audit/canonical-json";
import { toHex } from "../../src/lib/bytes";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(REPO, "bin", "keyforge-verify.mjs");
const KEY_ID = "nodeCliKey000001";

let dir: string;
let verifierKey: string;
let otherKey: string;
/** The same report cut to seqs 4..6 (range proof rebuilt), and a forgery by another key of the same name. */
let trimmed: AuditReport;
let forged: AuditReport;

function run(command: string, args: string[]): { status: number; stdout: string } {
  try {
    const stdout = execFileSync(command, args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { status: 0, stdout };
  } catch (error) {
    const failed = error as { status: number | null; stdout: string };
    return { status: failed.status ?? -1, stdout: failed.stdout };
  }
}

async function makeReport(): Promise<AuditReport> {
  const nodes = new Map<string, Uint8Array>();
  const store: MerkleNodeStore = { get: (l, i) => nodes.get(`${l}:${i}`), put: (l, i, h) => void nodes.set(`${l}:${i}`, h) };
  const chainKey = await deriveChainKey("node-test-audit-master-secret", KEY_ID);
  let head = await genesisHash(chainKey, KEY_ID);
  const entries: AuditEntry[] = [];
  for (let seq = 1; seq <= 9; seq++) {
    const entry = {
      v: 1 as const,
      key_id: KEY_ID,
      seq,
      ts: 1_767_225_600_000 + seq,
      request_id: `req_${seq}`,
      model: "gpt-5.4",
      provider: "openai",
      status: 200,
      prompt_tokens: 10 * seq,
      completion_tokens: seq,
      cost_micros: 150 * seq,
      latency_ms: 420,
      stream: false,
    };
    head = (await chainEntry(chainKey, head, entry)).hash;
    await appendLeaf(store, seq - 1, await entryLeafHash(entry));
    entries.push(entry);
  }
  const keys = await noteKeysFromSeed("keyforge.test/audit", new Uint8Array(32).fill(9));
  const signer = await parseSignerKey(keys.signerKey);
  verifierKey = keys.verifierKey;
  const other = await noteKeysFromSeed("keyforge.test/audit", new Uint8Array(32).fill(8));
  otherKey = other.verifierKey;
  const origin = checkpointOrigin("keyforge.test/audit", KEY_ID);
  const issue = async (by: typeof signer) =>
    signReport(
      await buildReport({
        keyId: KEY_ID,
        origin,
        entries: entries.slice(2, 7),
        rangeProof: await rangeProof(store, 2, 7, 9),
        checkpoint: await signCheckpoint({ origin, size: 9, rootHash: await rootAt(store, 9) }, [by]),
        verifierKey: by.verifierKey,
      }),
      "rpt_nodeCli",
      by,
    );
  const report = await issue(signer);
  const cut = await rangeProof(store, 3, 6, 9);
  trimmed = {
    ...report,
    range: { from_seq: 4, to_seq: 6 },
    entries: report.entries.slice(1, 4),
    range_proof: { left: cut.left.map((h) => toHex(h)), right: cut.right.map((h) => toHex(h)) },
  };
  forged = await issue(await parseSignerKey(other.signerKey));
  return report;
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(REPO, "scripts", "build-cli.mjs")], { cwd: REPO });
  dir = mkdtempSync(join(tmpdir(), "keyforge-verify-"));
  const report = await makeReport();
  writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 2));
  const tampered = structuredClone(report);
  tampered.entries[1]!.entry = canonicalJson({ ...(JSON.parse(tampered.entries[1]!.entry) as object), cost_micros: 1 });
  writeFileSync(join(dir, "tampered.json"), JSON.stringify(tampered, null, 2));
  writeFileSync(join(dir, "trimmed.json"), JSON.stringify(trimmed, null, 2));
  writeFileSync(join(dir, "forged.json"), JSON.stringify(forged, null, 2));
  writeFileSync(join(dir, "not-json.json"), "{");
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("bin/keyforge-verify.mjs on Node", () => {
  it("exits 0 for a valid report with the right key", () => {
    const { status, stdout } = run(process.execPath, [BIN, join(dir, "report.json"), "--key", verifierKey]);
    expect(stdout).toMatch(/^ok {4}checkpoint signature: signed by keyforge\.test\/audit\+[0-9a-f]{8}$/m);
    expect(stdout).toMatch(/VERIFIED: all \d+ checks passed\n$/);
    expect(status).toBe(0);
  });

  it("exits 1 for a tampered report, an untrusted key or broken JSON", () => {
    const tampered = run(process.execPath, [BIN, join(dir, "tampered.json"), "--key", verifierKey]);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(/^FAIL {2}entry seq 4: leaf hash does not match/m);
    expect(tampered.stdout).toMatch(/^FAIL {2}range proof: /m);
    expect(run(process.execPath, [BIN, join(dir, "report.json"), "--key", otherKey]).status).toBe(1);
    expect(run(process.execPath, [BIN, join(dir, "not-json.json"), "--key", verifierKey]).status).toBe(1);
  });

  it("exits 2 on bad usage or a missing file", () => {
    expect(run(process.execPath, [BIN, join(dir, "report.json")]).status).toBe(2);
    expect(run(process.execPath, [BIN, join(dir, "missing.json"), "--key", verifierKey]).status).toBe(2);
  });

  it("trusts the embedded key only when asked", () => {
    expect(run(process.execPath, [BIN, join(dir, "report.json"), "--trust-embedded"]).status).toBe(0);
  });

  it("exits 1 for a report cut at both ends with its range proof rebuilt, naming the issued range", () => {
    const { status, stdout } = run(process.execPath, [BIN, join(dir, "trimmed.json"), "--key", verifierKey]);
    expect(stdout).toMatch(/^FAIL {2}report signature: the gateway issued this report for seq 3\.\.7, but it holds seq 4\.\.6: entries were cut or added/m);
    expect(status).toBe(1);
  });

  it("--trust-embedded never widens a pinned --key: a same-named forger's report exits 1", () => {
    const { status, stdout } = run(process.execPath, [BIN, join(dir, "forged.json"), "--key", verifierKey, "--trust-embedded"]);
    expect(stdout).toMatch(/^FAIL {2}checkpoint signature: the report names the key keyforge\.test\/audit\+[0-9a-f]{8}, which is not one of the trusted keys/m);
    expect(status).toBe(1);
  });

  it("runs as `npx keyforge-verify` from the repository", () => {
    expect(run("npx", ["--no-install", "keyforge-verify", join(dir, "report.json"), "--key", verifierKey]).status).toBe(0);
    expect(run("npx", ["--no-install", "keyforge-verify", join(dir, "tampered.json"), "--key", verifierKey]).status).toBe(1);
  });
});
