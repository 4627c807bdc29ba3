/**
 * C2SP signed notes (https://c2sp.org/signed-note), parsed as strictly as golang.org/x/mod's
 * sumdb/note: a note is text ending in "\n", a blank line, then one or more lines
 * "— <key name> <base64(4-byte key id || signature)>\n". Signatures by unknown keys are
 * ignored; a signature by a known key that fails to verify rejects the whole note; at least
 * one known key must have signed.
 */
import { concatBytes, toBase64, utf8 } from "../lib/bytes";
import { parseCanonicalBase64, uint32be } from "./encoding";
import { AuditError } from "./errors";
import { isValidKeyName, keyIdHex, type NoteSigner, type NoteVerifier } from "./note-keys";

const SIG_PREFIX = "\u2014 "; // em dash, space
const MAX_SIGNATURES = 100;
// Control characters other than "\n", and lone surrogates (text that has no UTF-8 encoding).
const FORBIDDEN_CHARS = /(?!\n)\p{Cc}|\p{Cs}/u;

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The base64 exactly as it appears on the signature line. */
  base64: string;
}

export interface OpenedNote {
  text: string;
  /** Signatures by the given verifiers, all valid. */
  signatures: NoteSignature[];
  /** Signatures by keys the caller does not know, left unchecked. */
  unverified: NoteSignature[];
}

const malformed = (why: string) => new AuditError("malformed_note", why);

function checkText(text: string): void {
  if (text === "" || !text.endsWith("\n")) throw malformed("note text must be non-empty and end with a newline");
  if (FORBIDDEN_CHARS.test(text)) throw malformed("note contains a control character or invalid Unicode");
}

/** Signs `text` with each signer; the result is the note text, a blank line and one line per signer. */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  checkText(text);
  if (signers.length === 0) throw new AuditError("invalid_input", "at least one signer is required");
  const message = utf8(text);
  let lines = "";
  for (const signer of signers) {
    const signature = await signer.sign(message);
    lines += `${SIG_PREFIX}${signer.name} ${toBase64(concatBytes(uint32be(signer.keyId), signature))}\n`;
  }
  return `${text}\n${lines}`;
}

function parseSignatureLine(line: string): { sig: NoteSignature; bytes: Uint8Array } {
  if (!line.startsWith(SIG_PREFIX)) throw malformed("signature line must start with an em dash and a space");
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(" ");
  if (space < 0) throw malformed("signature line must be '— <name> <base64>'");
  const [name, base64] = [rest.slice(0, space), rest.slice(space + 1)];
  if (!isValidKeyName(name)) throw malformed("invalid key name on a signature line");
  let decoded: Uint8Array;
  try {
    decoded = parseCanonicalBase64(base64, "signature");
  } catch {
    throw malformed("signature is not canonical base64");
  }
  if (decoded.length < 5) throw malformed("signature is too short");
  const keyId = new DataView(decoded.buffer, decoded.byteOffset).getUint32(0);
  return { sig: { name, keyId, base64 }, bytes: decoded.subarray(4) };
}

/** Splits a note into its text and signature lines, checking the grammar. */
function splitNote(note: string): { text: string; lines: string[] } {
  if (FORBIDDEN_CHARS.test(note)) throw malformed("note contains a control character or invalid Unicode");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw malformed("note has no signature block");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === "" || !block.endsWith("\n")) throw malformed("signature block must end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw malformed(`more than ${MAX_SIGNATURES} signatures`);
  return { text, lines };
}

/** Parses and verifies a note against the trusted verifiers; throws unless one of them signed it. */
export async function openNote(note: string, verifiers: readonly NoteVerifier[]): Promise<OpenedNote> {
  const { text, lines } = splitNote(note);
  const message = utf8(text);
  const opened: OpenedNote = { text, signatures: [], unverified: [] };
  const seen = new Set<string>();
  for (const line of lines) {
    const { sig, bytes } = parseSignatureLine(line);
    const id = `${sig.name}+${keyIdHex(sig.keyId)}`;
    const verifier = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (seen.has(id)) continue; // a repeated signature by one key adds nothing
    seen.add(id);
    if (verifier === undefined) {
      opened.unverified.push(sig);
      continue;
    }
    if (!(await verifier.verify(message, bytes))) {
      throw new AuditError("invalid_signature", `signature by ${id} does not verify`);
    }
    opened.signatures.push(sig);
  }
  if (opened.signatures.length === 0) {
    throw new AuditError("unverified_note", "no signature by a trusted key");
  }
  return opened;
}
