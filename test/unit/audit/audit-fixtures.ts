/** Shared builders for the audit tests: entries, an in-memory node store, a signed log and its report. */
import fc from "fast-check";
// Fixtures are request entries (the admin kind has its own tests).
import { canonicalJson, type RequestEntry as AuditEntry } from "../../../src/audit/canonical-json";
import { chainEntry, deriveChainKey, genesisHash, type ChainRecord } from "../../../src/audit/chain";
import { checkpointOrigin, signCheckpoint, type Checkpoint } from "../../../src/audit/checkpoint";
import { rangeProof } from "../../../src/audit/merkle-range";
import { appendLeaf, consistencyProof, rootAt, type MerkleNodeStore } from "../../../src/audit/merkle-store";
import { noteKeysFromSeed, parseSignerKey, type NoteSigner } from "../../../src/audit/note-keys";
import { buildReport, entryLeafHash, signReport, type AuditReport } from "../../../src/audit/report";

export const KAT_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
export const KAT_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
export const MASTER_SECRET = "test-audit-hmac-secret-0123456789";
export const ORIGIN_PREFIX = "keyforge.test/audit";

/** A Map-backed MerkleNodeStore that counts reads, to check the O(log n) claim. */
export class MemoryNodeStore implements MerkleNodeStore {
  readonly nodes = new Map<string, Uint8Array>();
  reads = 0;
  get(level: number, index: number): Uint8Array | undefined {
    this.reads++;
    return this.nodes.get(`${level}:${index}`);
  }
  put(level: number, index: number, hash: Uint8Array): void {
    this.nodes.set(`${level}:${index}`, hash);
  }
}

export function makeEntry(keyId: string, seq: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    v: 1,
    key_id: keyId,
    seq,
    ts: 1_767_225_600_000 + seq * 1000,
    request_id: `req_${keyId}_${seq}`,
    model: seq % 2 === 0 ? "gpt-5.4" : "claude-sonnet-4-6",
    provider: seq % 2 === 0 ? "openai" : "anthropic",
    status: seq % 7 === 0 ? "expired" : 200,
    prompt_tokens: 100 + seq,
    completion_tokens: 20 * seq,
    cost_micros: 1234 * seq,
    latency_ms: 300 + seq,
    stream: seq % 3 === 0,
    ...overrides,
  };
}

/** Arbitrary entry fields (everything but v, key_id and seq). */
export const entryFieldsArb = fc.record({
  ts: fc.integer({ min: 0, max: 2 ** 45 }),
  request_id: fc.string({ maxLength: 40 }),
  model: fc.string({ maxLength: 40 }),
  provider: fc.constantFrom("openai", "anthropic", "google", "mock", "custom-ü"),
  status: fc.oneof(fc.integer({ min: 100, max: 599 }), fc.constant("expired" as const)),
  prompt_tokens: fc.nat(),
  completion_tokens: fc.nat(),
  cost_micros: fc.maxSafeNat(),
  latency_ms: fc.nat(),
  stream: fc.boolean(),
});

export interface TestLog {
  keyId: string;
  chainKey: CryptoKey;
  genesis: string;
  entries: AuditEntry[];
  records: ChainRecord[];
  leaves: Uint8Array[];
  store: MemoryNodeStore;
}

/** A chained, Merkle-logged key with `count` entries. */
export async function buildLog(keyId: string, count: number, make = makeEntry): Promise<TestLog> {
  const chainKey = await deriveChainKey(MASTER_SECRET, keyId);
  const genesis = await genesisHash(chainKey, keyId);
  const log: TestLog = { keyId, chainKey, genesis, entries: [], records: [], leaves: [], store: new MemoryNodeStore() };
  for (let seq = 1; seq <= count; seq++) await appendToLog(log, make(keyId, seq));
  return log;
}

export async function appendToLog(log: TestLog, entry: AuditEntry): Promise<void> {
  const previous = log.records.at(-1)?.hash ?? log.genesis;
  const { canonical, hash } = await chainEntry(log.chainKey, previous, entry);
  log.entries.push(entry);
  log.records.push({ entry: canonical, hash });
  const leaf = await entryLeafHash(entry);
  log.leaves.push(leaf);
  await appendLeaf(log.store, log.leaves.length - 1, leaf);
}

let signerPromise: Promise<NoteSigner> | undefined;

/** The test log signer (fixed seed 1..32) and its verifier key. */
export async function testSigner(): Promise<NoteSigner> {
  signerPromise ??= noteKeysFromSeed(
    ORIGIN_PREFIX,
    Uint8Array.from({ length: 32 }, (_, i) => i + 1),
  ).then((k) => parseSignerKey(k.signerKey));
  return signerPromise;
}

export async function checkpointAt(log: TestLog, size: number): Promise<Checkpoint> {
  return { origin: checkpointOrigin(ORIGIN_PREFIX, log.keyId), size, rootHash: await rootAt(log.store, size) };
}

export async function signedCheckpointAt(log: TestLog, size: number, signer?: NoteSigner): Promise<string> {
  return signCheckpoint(await checkpointAt(log, size), [signer ?? (await testSigner())]);
}

/** A report (issued as `reportId`) for seqs from..to against a checkpoint of `size`, optionally linking one of `previousSize`. */
export async function reportFor(
  log: TestLog,
  opts: { from: number; to: number; size?: number; previousSize?: number; signer?: NoteSigner; reportId?: string },
): Promise<AuditReport> {
  const size = opts.size ?? log.entries.length;
  const signer = opts.signer ?? (await testSigner());
  const previous =
    opts.previousSize === undefined
      ? null
      : {
          checkpoint: await signedCheckpointAt(log, opts.previousSize, signer),
          consistencyProof: await consistencyProof(log.store, opts.previousSize, size),
        };
  const built = await buildReport({
    keyId: log.keyId,
    origin: checkpointOrigin(ORIGIN_PREFIX, log.keyId),
    entries: log.entries.slice(opts.from - 1, opts.to),
    rangeProof: await rangeProof(log.store, opts.from - 1, opts.to, size),
    checkpoint: await signedCheckpointAt(log, size, signer),
    verifierKey: signer.verifierKey,
    previous,
  });
  return signReport(built, opts.reportId ?? "rpt_test", signer);
}

/** Rewrites entry `i` of a report in canonical form, as a forger editing a value would. */
export function editEntry(report: AuditReport, i: number, edit: (entry: AuditEntry) => void): void {
  const slot = report.entries[i]!;
  const entry = JSON.parse(slot.entry) as AuditEntry;
  edit(entry);
  slot.entry = canonicalJson(entry);
}
