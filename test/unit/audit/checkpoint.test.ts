/** C2SP tlog-checkpoint bodies: exact format, strict parsing, signing, and the never-shrink guard. */
import { describe, expect, it } from "vitest";
import { toBase64 } from "../../../src/lib/bytes";
import {
  assertCheckpointGrowth,
  checkpointOrigin,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  verifyCheckpointExtends,
  type Checkpoint,
} from "../../../src/audit/checkpoint";
import { emptyRoot } from "../../../src/audit/merkle";
import { consistencyProof } from "../../../src/audit/merkle-store";
import { parseVerifierKey } from "../../../src/audit/note-keys";
import { buildLog, checkpointAt, testSigner } from "./audit-fixtures";

const ROOT = new Uint8Array(32).map((_, i) => i);
const CP: Checkpoint = { origin: "keyforge.dev/audit/0123456789ABCDEF", size: 42, rootHash: ROOT };
const BODY = `keyforge.dev/audit/0123456789ABCDEF\n42\n${toBase64(ROOT)}\n`;

describe("format and parse", () => {
  it("formats exactly origin, decimal size and base64 root, one per line", () => {
    expect(formatCheckpoint(CP)).toBe(BODY);
    expect(parseCheckpoint(BODY)).toEqual(CP);
  });

  it("builds origins from a prefix and a key id", () => {
    expect(checkpointOrigin("keyforge.dev/audit", "abc")).toBe("keyforge.dev/audit/abc");
    expect(() => checkpointOrigin("keyforge.dev/audit/", "abc")).toThrow();
    expect(() => checkpointOrigin("keyforge.dev/audit", "a/b")).toThrow();
    expect(() => checkpointOrigin("keyforge dev", "abc")).toThrow();
  });

  it.each([
    ["no final newline", BODY.slice(0, -1)],
    ["an extension line", `${BODY}extra\n`],
    ["an empty line", BODY.replace("\n42\n", "\n\n42\n")],
    ["a leading zero", BODY.replace("\n42\n", "\n042\n")],
    ["a negative size", BODY.replace("\n42\n", "\n-42\n")],
    ["an exponent", BODY.replace("\n42\n", "\n4e1\n")],
    ["a size beyond 2^53", BODY.replace("\n42\n", "\n9007199254740993\n")],
    ["a 31-byte root", `keyforge.dev/audit/k\n1\n${toBase64(new Uint8Array(31))}\n`],
    ["a non-canonical root (stray padding bits)", `keyforge.dev/audit/k\n1\n${"A".repeat(42)}B=\n`],
    ["a space in the origin", BODY.replace("keyforge.dev", "keyforge dev")],
    ["an empty origin", BODY.replace("keyforge.dev/audit/0123456789ABCDEF", "")],
  ])("rejects a body with %s", (_, body) => {
    expect(() => parseCheckpoint(body)).toThrow(expect.objectContaining({ code: "malformed_checkpoint" }));
  });

  it("refuses to format an invalid checkpoint", () => {
    expect(() => formatCheckpoint({ ...CP, size: -1 })).toThrow();
    expect(() => formatCheckpoint({ ...CP, rootHash: new Uint8Array(31) })).toThrow();
    expect(() => formatCheckpoint({ ...CP, origin: "a+b" })).toThrow();
  });
});

describe("signed checkpoints", () => {
  it("signs and opens, pinning the origin", async () => {
    const signer = await testSigner();
    const note = await signCheckpoint(CP, [signer]);
    expect(note.startsWith(`${BODY}\n— ${signer.name} `)).toBe(true);
    const verifier = await parseVerifierKey(signer.verifierKey);
    expect((await openCheckpoint(note, [verifier], CP.origin)).checkpoint).toEqual(CP);
    await expect(openCheckpoint(note, [verifier], "keyforge.dev/audit/other")).rejects.toMatchObject({ code: "malformed_checkpoint" });
  });
});

describe("never sign a checkpoint smaller than one signed before", () => {
  it("allows the first checkpoint, equal ones and growth", () => {
    assertCheckpointGrowth(null, CP);
    assertCheckpointGrowth(CP, { ...CP });
    assertCheckpointGrowth(CP, { ...CP, size: 43, rootHash: new Uint8Array(32) });
  });

  it("refuses shrinking, a fork at the same size and another origin", () => {
    const refused = (next: Checkpoint) => expect(() => assertCheckpointGrowth(CP, next)).toThrow(expect.objectContaining({ code: "checkpoint_regression" }));
    refused({ ...CP, size: 41 });
    refused({ ...CP, rootHash: new Uint8Array(32) });
    refused({ ...CP, origin: "keyforge.dev/audit/other" });
  });

  it("checks growth with a consistency proof", async () => {
    const log = await buildLog("keyC", 20);
    const [old, next] = [await checkpointAt(log, 7), await checkpointAt(log, 20)];
    await verifyCheckpointExtends(old, next, await consistencyProof(log.store, 7, 20));
    await expect(verifyCheckpointExtends(old, next, await consistencyProof(log.store, 6, 20))).rejects.toBeDefined();
    await expect(verifyCheckpointExtends(next, old, [])).rejects.toMatchObject({ code: "checkpoint_regression" });
    const empty = { ...old, size: 0, rootHash: await emptyRoot() };
    await verifyCheckpointExtends(empty, next, []);
    await expect(verifyCheckpointExtends({ ...empty, rootHash: ROOT }, next, [])).rejects.toMatchObject({ code: "checkpoint_regression" });
  });
});
