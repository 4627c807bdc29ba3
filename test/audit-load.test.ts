import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/audit/canonical-json";
import { openCheckpoint } from "../src/audit/checkpoint";
import { leafHash, rootFromLeafHashes } from "../src/audit/merkle";
import { parseVerifierKey } from "../src/audit/note-keys";
import { utf8 } from "../src/lib/bytes";
import { allEntries, historyLength, publishedKeys, verifyAudit, waitForEntries } from "./support/audit";
import { chat, createKey } from "./support/gateway";
import { testNow } from "./support/clock";
import { guardOf, setClock, sqlRows } from "./support/key-guard";

/**
 * Under load: 500 concurrent requests on one key (a fifth of them streamed) give 500 entries
 * numbered right after the key's policy history (key.create, copied once by the first of them)
 * with no gap or duplicate, a chain that verifies, and, once the alarm's checkpoint interval has
 * passed, a signed checkpoint over exactly those leaves.
 * (The 500 concurrent front-door requests alone take ~30 s in the test runtime on a loaded
 * 2-core machine, with or without the audit work: hence the long timeout.)
 */

const N = 500;

describe("audit under load", () => {
  it(`${N} concurrent requests: ${N} contiguous entries, a valid chain, a checkpoint signed over ${N}`, async () => {
    const key = await createKey();
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => chat(key.key, { model: "mock/echo", stream: i % 5 === 0, messages: [{ role: "user", content: `load ${i}` }] })),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    await Promise.all(responses.map((r) => r.text()));
    await waitForEntries(key.id, N);

    const h = await historyLength(key.id);
    const size = h + N;
    const entries = await allEntries(key.id);
    expect(entries.slice(0, h).map((e) => e.action)).toEqual(["key.create"]);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: size }, (_, i) => i + 1));
    expect(new Set(entries.slice(h).map((e) => e.request_id))).toEqual(new Set(responses.map((r) => r.headers.get("x-request-id"))));
    expect(entries.filter((e) => e.stream === true)).toHaveLength(N / 5);
    // Pages of 256 rows: the verifier streams two of them.
    const verification = await verifyAudit(key.id);
    expect(verification).toMatchObject({ valid: true, entries: size, first_invalid_seq: null });
    expect(verification.head).toEqual({ seq: size, hash: entries.at(-1)!.hash });

    // The alarm signs once the interval (60 s by default) has passed since the log grew.
    await setClock(key.id, testNow() + 61_000);
    expect(await runDurableObjectAlarm(guardOf(key.id))).toBe(true);
    const [stored] = await sqlRows<{ size: number; note: string }>(key.id, "select size, note from audit_checkpoints order by size desc limit 1");
    expect(stored!.size).toBe(size);
    const verifiers = await Promise.all((await publishedKeys()).map((k) => parseVerifierKey(k.verifier_key)));
    const { checkpoint } = await openCheckpoint(stored!.note, verifiers, `keyforge.dev/audit/${key.id}`);
    const leaves = await Promise.all(entries.map(({ hash: _hash, ...entry }) => leafHash(utf8(canonicalJson(entry)))));
    expect(checkpoint.size).toBe(size);
    expect(checkpoint.rootHash).toEqual(await rootFromLeafHashes(leaves));
    // On demand, the same checkpoint is served rather than re-signed.
    expect(await guardOf(key.id).auditCheckpoint(key.id)).toMatchObject({ ok: true, size, note: stored!.note });
  }, 180_000);
});
