/**
 * C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint), one log per virtual key:
 *
 *   <origin>\n<tree size, decimal>\n<base64 RFC 6962 root hash>\n
 *
 * with origin `<prefix>/<key_id>` (e.g. keyforge.dev/audit/<key_id>). KeyForge checkpoints
 * carry no extension lines, so the parser accepts exactly these three lines, each in its one
 * canonical spelling. A checkpoint is published as a signed note (signed-note.ts).
 */
import { toBase64 } from "../lib/bytes";
import { bytesEqual, parseCanonicalBase64, HASH_SIZE } from "./encoding";
import { AuditError } from "./errors";
import { checkTreeSize, emptyRoot, verifyConsistency } from "./merkle";
import { isValidKeyName, type NoteSigner, type NoteVerifier } from "./note-keys";
import { openNote, signNote, type OpenedNote } from "./signed-note";

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
}

const malformed = (why: string) => new AuditError("malformed_checkpoint", why);

/** Origins follow key-name rules (no spaces, "+" or control characters) so they can name keys too. */
function checkOrigin(origin: string): void {
  if (!isValidKeyName(origin)) throw malformed("origin must be non-empty without spaces, '+' or control characters");
}

/** `<prefix>/<key_id>`; the prefix is deployment configuration, e.g. "keyforge.dev/audit". */
export function checkpointOrigin(prefix: string, keyId: string): string {
  if (prefix.endsWith("/") || keyId === "" || keyId.includes("/")) {
    throw new AuditError("invalid_input", "origin prefix must not end with '/' and key_id must be a non-empty path segment");
  }
  const origin = `${prefix}/${keyId}`;
  checkOrigin(origin);
  return origin;
}

export function formatCheckpoint(checkpoint: Checkpoint): string {
  checkOrigin(checkpoint.origin);
  checkTreeSize(checkpoint.size, "tree size");
  if (checkpoint.rootHash.length !== HASH_SIZE) throw new AuditError("invalid_input", "root hash must be 32 bytes");
  return `${checkpoint.origin}\n${checkpoint.size}\n${toBase64(checkpoint.rootHash)}\n`;
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw malformed("checkpoint must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length !== 3) throw malformed(`checkpoint must have exactly 3 lines, found ${lines.length}`);
  const [origin, sizeText, rootText] = lines as [string, string, string];
  checkOrigin(origin);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw malformed("tree size must be a decimal integer without leading zeros, below 2^53");
  }
  let rootHash: Uint8Array;
  try {
    rootHash = parseCanonicalBase64(rootText, "root hash");
  } catch {
    throw malformed("root hash is not canonical base64");
  }
  if (rootHash.length !== HASH_SIZE) throw malformed("root hash must be 32 bytes");
  return { origin, size: Number(sizeText), rootHash };
}

export async function signCheckpoint(checkpoint: Checkpoint, signers: readonly NoteSigner[]): Promise<string> {
  return signNote(formatCheckpoint(checkpoint), signers);
}

/** Verifies the note's signatures, then parses its body; optionally pins the origin. */
export async function openCheckpoint(
  note: string,
  verifiers: readonly NoteVerifier[],
  expectedOrigin?: string,
): Promise<{ checkpoint: Checkpoint; note: OpenedNote }> {
  const opened = await openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new AuditError("malformed_checkpoint", "checkpoint is for another log", {
      expected: expectedOrigin,
      calculated: checkpoint.origin,
    });
  }
  return { checkpoint, note: opened };
}

/**
 * The guard a signer runs before signing: never a checkpoint of another origin, smaller than
 * one signed before, or of the same size with another root (a fork). A size increase must
 * additionally be backed by a consistency proof: see `verifyCheckpointExtends`.
 */
export function assertCheckpointGrowth(previous: Checkpoint | null, next: Checkpoint): void {
  if (previous === null) return;
  if (previous.origin !== next.origin) {
    throw new AuditError("checkpoint_regression", "origin changed", { expected: previous.origin, calculated: next.origin });
  }
  if (next.size < previous.size) {
    throw new AuditError("checkpoint_regression", `tree size ${next.size} is smaller than the signed ${previous.size}`, {
      expected: `>= ${previous.size}`,
      calculated: String(next.size),
    });
  }
  if (next.size === previous.size && !bytesEqual(next.rootHash, previous.rootHash)) {
    throw new AuditError("checkpoint_regression", `a different root for the already signed size ${next.size}`, {
      expected: toBase64(previous.rootHash),
      calculated: toBase64(next.rootHash),
    });
  }
}

/** Growth guard plus an RFC 6962 consistency proof from `previous` to `next`. */
export async function verifyCheckpointExtends(previous: Checkpoint, next: Checkpoint, proof: readonly Uint8Array[]): Promise<void> {
  assertCheckpointGrowth(previous, next);
  if (previous.size === 0) {
    // Every log extends the empty one; RFC 6962 has no proof for it, so only the root is checked.
    if (proof.length !== 0 || !bytesEqual(previous.rootHash, await emptyRoot())) {
      throw new AuditError("checkpoint_regression", "an empty checkpoint must have the empty root and no proof");
    }
    return;
  }
  await verifyConsistency(previous.size, next.size, proof, previous.rootHash, next.rootHash);
}
