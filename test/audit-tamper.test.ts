import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyGuard } from "../durable-objects/key-guard";
import { canonicalJson } from "../src/audit/canonical-json";
import { parseCheckpoint } from "../src/audit/checkpoint";
import { leafHash, rootFromLeafHashes } from "../src/audit/merkle";
import type { AuditReport } from "../src/audit/report";
import { verifyReport } from "../src/audit/report-verify";
import { utf8 } from "../src/lib/bytes";
import { allEntries, createReport, historyLength, publicJson, publishedKeys, tamper, verifyAudit, waitForEntries } from "./support/audit";
import { chat, createKey } from "./support/gateway";
import { guardOf } from "./support/key-guard";

/**
 * Someone with raw access to a key's Durable Object storage edits its audit log. The verify
 * endpoint names the first seq that no longer verifies. Cutting off the tail is the one edit a
 * bare HMAC chain cannot see; a checkpoint signed before the cut exposes it: the signer refuses
 * to sign a smaller tree, and an auditor holding the earlier checkpoint sees the contradiction.
 * The edits target request entries: seq `h + i` is the i-th request, after the `h` entries of the
 * key's policy history that open its log (key.create, copied at first use).
 */

async function loggedKey(n: number): Promise<{ id: string; key: string; h: number }> {
  const key = await createKey();
  for (let i = 0; i < n; i++) expect((await chat(key.key, { model: "mock/echo", messages: [{ role: "user", content: `entry ${i}` }] })).status).toBe(200);
  await waitForEntries(key.id, n);
  const h = await historyLength(key.id);
  expect(await verifyAudit(key.id)).toMatchObject({ valid: true, entries: h + n });
  return { ...key, h };
}

function rowOf(id: string, seq: number): Promise<{ entry: string; hash: string }> {
  return runInDurableObject(guardOf(id), (_i: KeyGuard, state) =>
    state.storage.sql.exec<{ entry: string; hash: string }>("select entry, hash from audit_entries where seq = ?", seq).one(),
  );
}

async function swapRows(id: string, a: number, b: number): Promise<void> {
  const [rowA, rowB] = [await rowOf(id, a), await rowOf(id, b)];
  await tamper(id, "update audit_entries set entry = ?, hash = ? where seq = ?", rowB.entry, rowB.hash, a);
  await tamper(id, "update audit_entries set entry = ?, hash = ? where seq = ?", rowA.entry, rowA.hash, b);
}

async function reportJson(id: string, range?: { from_seq?: number; to_seq?: number }): Promise<AuditReport> {
  const res = await createReport(id, range);
  expect(res.status).toBe(201);
  const { id: reportId } = (await res.json()) as { id: string };
  return (await publicJson<AuditReport>(`/reports/${reportId}.json`)).body;
}

describe("audit: tampering inside the Durable Object", () => {
  it("a changed field: invalid from that seq, the entries before it still count", async () => {
    const { h, ...key } = await loggedKey(5);
    const before = await allEntries(key.id);
    await tamper(key.id, `update audit_entries set entry = replace(entry, '"cost_micros":', '"cost_micros":9') where seq = ?`, h + 3);
    expect(await verifyAudit(key.id)).toEqual({
      valid: false,
      entries: h + 2,
      head: { seq: h + 2, hash: before[h + 1]!.hash },
      first_invalid_seq: h + 3,
      error: { code: "chain_mismatch", message: `hash of seq ${h + 3} does not match its entry` },
    });
  });

  it("an entry respelled (same meaning, not canonical JSON)", async () => {
    const { h, ...key } = await loggedKey(3);
    await tamper(key.id, "update audit_entries set entry = ' ' || entry where seq = ?", h + 2);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: false, first_invalid_seq: h + 2, error: { code: "non_canonical" } });
  });

  it("a deleted entry", async () => {
    const { h, ...key } = await loggedKey(5);
    await tamper(key.id, "delete from audit_entries where seq = ?", h + 2);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: false, entries: h + 1, first_invalid_seq: h + 2, error: { code: "chain_order" } });
  });

  it("two entries swapped, hashes and all", async () => {
    const { h, ...key } = await loggedKey(5);
    await swapRows(key.id, h + 2, h + 4);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: false, entries: h + 1, first_invalid_seq: h + 2 });
  });

  it("a changed stored hash", async () => {
    const { h, ...key } = await loggedKey(5);
    await tamper(key.id, "update audit_entries set hash = ? where seq = ?", "ab".repeat(32), h + 4);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: false, entries: h + 3, first_invalid_seq: h + 4, error: { code: "chain_mismatch" } });
  });

  it("an entry moved from another key's log, with its valid hash", async () => {
    const [a, b] = [await loggedKey(2), await loggedKey(2)];
    // b's first request entry over a's (the same seq in both logs).
    expect(b.h).toBe(a.h);
    const moved = await rowOf(b.id, b.h + 1);
    await tamper(a.id, "update audit_entries set entry = ?, hash = ? where seq = ?", moved.entry, moved.hash, a.h + 1);
    expect(await verifyAudit(a.id)).toMatchObject({ valid: false, entries: a.h, first_invalid_seq: a.h + 1, error: { code: "chain_order" } });
  });
});

describe("audit: truncation of the tail", () => {
  it("the bare chain still verifies, but a checkpoint signed before the cut exposes it", async () => {
    const { h, ...key } = await loggedKey(5);
    const keys = (await publishedKeys()).map((k) => k.verifier_key);
    const before = await reportJson(key.id);
    const signedBefore = parseCheckpoint(before.checkpoint.slice(0, before.checkpoint.indexOf("\n\n") + 1));
    expect(signedBefore.size).toBe(h + 5);

    // A thorough cut of the last two requests: entries, Merkle nodes and tree size back to h + 3, then a fresh instance.
    const kept = h + 3;
    await tamper(key.id, "delete from audit_entries where seq > ?", kept);
    await tamper(key.id, "delete from audit_nodes where (idx + 1) * (1 << level) > ?", kept);
    await tamper(key.id, "update meta set v = ? where k = 'audit_tree_size'", String(kept));
    await abortAllDurableObjects();

    // Known limit of an HMAC chain: a prefix of a valid chain is a valid chain.
    expect(await verifyAudit(key.id)).toMatchObject({ valid: true, entries: kept });
    // The signer remembers the size it signed and refuses to sign a smaller tree.
    const refused = await createReport(key.id);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "conflict",
      message: expect.stringContaining(`smaller than the signed ${h + 5}`),
    });
    expect(await guardOf(key.id).auditCheckpoint(key.id)).toMatchObject({ ok: false, code: "integrity" });

    // Erase the signer's memory too: it signs 3, and that report is self-consistent...
    await tamper(key.id, "delete from audit_checkpoints");
    const after = await reportJson(key.id);
    expect((await verifyReport(after, keys)).ok).toBe(true);
    // ...but an auditor who kept the checkpoint of 5 sees the log went back on it.
    const held = await verifyReport(after, keys, { previousCheckpoint: before.checkpoint });
    expect(held.ok).toBe(false);
    expect(held.checks.find((c) => !c.ok)?.name).toBe("consistency");

    // Growing the log again does not help: its first leaves are not the ones that were signed.
    for (let i = 0; i < 3; i++) await chat(key.key, { model: "mock/echo", messages: [{ role: "user", content: `regrow ${i}` }] });
    await waitForEntries(key.id, 6);
    const regrown = await reportJson(key.id);
    expect(regrown.range).toEqual({ from_seq: 1, to_seq: h + 6 });
    expect((await verifyReport(regrown, keys, { previousCheckpoint: before.checkpoint })).ok).toBe(false);
    const leaves = await Promise.all((await allEntries(key.id)).slice(0, h + 5).map(({ hash: _h, ...e }) => leafHash(utf8(canonicalJson(e)))));
    expect(await rootFromLeafHashes(leaves)).not.toEqual(signedBefore.rootHash);
  });
});
