/** C2SP signed notes with Ed25519: the Go known-answer test byte for byte, and strict parsing. */
import { describe, expect, it } from "vitest";
import { toBase64 } from "../../../src/lib/bytes";
import { generateNoteKeys, noteKeysFromSeed, parseSignerKey, parseVerifierKey, type NoteVerifier } from "../../../src/audit/note-keys";
import { openNote, signNote } from "../../../src/audit/signed-note";
import { KAT_SIGNER, KAT_VERIFIER } from "./audit-fixtures";

const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const KAT_LINE = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const KAT_NOTE = `${TEXT}\n${KAT_LINE}`;

async function katVerifier(): Promise<NoteVerifier> {
  return parseVerifierKey(KAT_VERIFIER);
}

describe("keys", () => {
  it("derives the known verifier key and key id from the known signer key", async () => {
    const signer = await parseSignerKey(KAT_SIGNER);
    expect(signer.verifierKey).toBe(KAT_VERIFIER);
    expect(signer.keyId).toBe(0xc74f20a3);
    expect((await katVerifier()).keyId).toBe(0xc74f20a3);
  });

  it("round-trips generated and seeded keys", async () => {
    const seeded = await noteKeysFromSeed("keyforge.dev/audit", new Uint8Array(32).fill(7));
    expect(seeded.signerKey).toMatch(/^PRIVATE\+KEY\+keyforge\.dev\/audit\+[0-9a-f]{8}\+/);
    expect((await parseSignerKey(seeded.signerKey)).verifierKey).toBe(seeded.verifierKey);
    const generated = await generateNoteKeys("fresh");
    const signer = await parseSignerKey(generated.signerKey);
    const note = await signNote("hello\n", [signer]);
    expect((await openNote(note, [await parseVerifierKey(generated.verifierKey)])).text).toBe("hello\n");
  });

  it.each([
    ["a wrong key id", KAT_VERIFIER.replace("c74f20a3", "c74f20a4")],
    ["an upper-case key id", KAT_VERIFIER.replace("c74f20a3", "C74F20A3")],
    ["another name", KAT_VERIFIER.replace("PeterNeumann", "PeterNeuman")],
    ["a name with a space", KAT_VERIFIER.replace("PeterNeumann", "Peter Neumann")],
    ["a wrong algorithm byte", `PeterNeumann+c74f20a3+${toBase64(new Uint8Array(33).fill(2))}`],
    ["a short key", "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q="],
    ["non-canonical base64", KAT_VERIFIER.replace("10TW", "10TX")],
    ["no separators", "PeterNeumann"],
  ])("refuses a verifier key with %s", async (_, key) => {
    await expect(parseVerifierKey(key)).rejects.toMatchObject({ code: "malformed_key" });
  });

  it("refuses a signer key whose id does not match, or without its prefix", async () => {
    await expect(parseSignerKey(KAT_SIGNER.replace("c74f20a3", "00000000"))).rejects.toMatchObject({
      code: "malformed_key",
      evidence: { expected: "00000000", calculated: "c74f20a3" },
    });
    await expect(parseSignerKey(KAT_SIGNER.slice("PRIVATE+KEY+".length))).rejects.toMatchObject({ code: "malformed_key" });
  });
});

describe("sign and open", () => {
  it("produces the known signature line byte for byte", async () => {
    expect(await signNote(TEXT, [await parseSignerKey(KAT_SIGNER)])).toBe(KAT_NOTE);
  });

  it("opens the known note", async () => {
    const opened = await openNote(KAT_NOTE, [await katVerifier()]);
    expect(opened.text).toBe(TEXT);
    expect(opened.signatures).toEqual([{ name: "PeterNeumann", keyId: 0xc74f20a3, base64: KAT_LINE.slice(15, -1) }]);
    expect(opened.unverified).toEqual([]);
  });

  it("ignores signatures by unknown keys but requires one known valid signature", async () => {
    const other = await parseSignerKey((await generateNoteKeys("Other")).signerKey);
    const both = await signNote(TEXT, [other, await parseSignerKey(KAT_SIGNER)]);
    const opened = await openNote(both, [await katVerifier()]);
    expect(opened.signatures.map((s) => s.name)).toEqual(["PeterNeumann"]);
    expect(opened.unverified.map((s) => s.name)).toEqual(["Other"]);
    const onlyOther = await signNote(TEXT, [other]);
    await expect(openNote(onlyOther, [await katVerifier()])).rejects.toMatchObject({ code: "unverified_note" });
    await expect(openNote(KAT_NOTE, [])).rejects.toMatchObject({ code: "unverified_note" });
  });

  it("rejects a note whose known signature does not verify", async () => {
    await expect(openNote(TEXT.replace("problem,", "problem;") + "\n" + KAT_LINE, [await katVerifier()])).rejects.toMatchObject({
      code: "invalid_signature",
    });
    const flipped = KAT_LINE.replace("x08go/ZJ", "x08go/ZK");
    await expect(openNote(`${TEXT}\n${flipped}`, [await katVerifier()])).rejects.toMatchObject({ code: "invalid_signature" });
  });

  it.each([
    ["no final newline", KAT_NOTE.slice(0, -1)],
    ["no blank line", TEXT + KAT_LINE],
    ["an empty signature block", `${TEXT}\n`],
    ["a hyphen instead of an em dash", `${TEXT}\n${KAT_LINE.replace("—", "-")}`],
    ["no space after the name", `${TEXT}\n${KAT_LINE.replace("PeterNeumann ", "PeterNeumann")}`],
    ["non-canonical base64", `${TEXT}\n${KAT_LINE.replace("AM=", "AN=")}`],
    ["a too-short signature", `${TEXT}\n— PeterNeumann AAAA\n`],
    ["a blank signature line", `${TEXT}\n${KAT_LINE}\n`],
    ["a control character", KAT_NOTE.replace("answer", "ans\u0007wer")],
    ["a carriage return", KAT_NOTE.replace("problem,\n", "problem,\r\n")],
    ["more than 100 signatures", `${TEXT}\n${KAT_LINE.repeat(101)}`],
  ])("rejects a note with %s", async (_, note) => {
    await expect(openNote(note, [await katVerifier()])).rejects.toMatchObject({ code: "malformed_note" });
  });

  it("drops a repeated signature by one key", async () => {
    const opened = await openNote(`${TEXT}\n${KAT_LINE}${KAT_LINE}`, [await katVerifier()]);
    expect(opened.signatures).toHaveLength(1);
  });

  it("refuses to sign text that is not a note body", async () => {
    const signer = await parseSignerKey(KAT_SIGNER);
    await expect(signNote("no newline", [signer])).rejects.toMatchObject({ code: "malformed_note" });
    await expect(signNote("", [signer])).rejects.toMatchObject({ code: "malformed_note" });
    await expect(signNote("tab\there\n", [signer])).rejects.toMatchObject({ code: "malformed_note" });
    await expect(signNote("ok\n", [])).rejects.toMatchObject({ code: "invalid_input" });
  });
});
