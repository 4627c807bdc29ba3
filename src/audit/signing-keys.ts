/**
 * The checkpoint signing keys from the `AUDIT_SIGNING_KEYS` secret:
 *
 *   <name>:<base64 32-byte Ed25519 seed>[,<name>:<base64 seed>]…
 *
 * The last entry is active (signs new checkpoints); the others are still published so
 * checkpoints they signed keep verifying after a rotation. Parsing is strict so a typo fails
 * loudly at the first use instead of signing under a key nobody publishes. Errors name the
 * entry position and key name, never the seed.
 */
import { fromBase64, toBase64 } from "../lib/bytes";
import { AuditError } from "./errors";
import { isValidKeyName, keyIdHex, noteKeysFromSeed, parseSignerKey, type NoteSigner } from "./note-keys";

const SEED_BYTES = 32;

export interface SigningKeySpec {
  name: string;
  seed: Uint8Array;
}

/** A published verifier key. `keyId` is the C2SP key id, 8 lowercase hex digits. */
export interface VerifierKeyInfo {
  name: string;
  keyId: string;
  verifierKey: string;
}

export interface SigningKeyring {
  /** Every configured key, in the order listed; the last is active. */
  keys: VerifierKeyInfo[];
  active: NoteSigner;
}

const config = (why: string) => new AuditError("invalid_input", `AUDIT_SIGNING_KEYS ${why}`);

export function parseSigningKeys(secret: string | undefined): SigningKeySpec[] {
  if (secret === undefined || secret.trim() === "") throw config("is not set: expected '<name>:<base64 32-byte seed>'");
  const seen = new Set<string>();
  return secret.split(",").map((raw, index) => {
    const entry = raw.trim();
    const where = `entry ${index + 1}`;
    // Base64 has no ':', so the last one separates the name (which may contain ':').
    const colon = entry.lastIndexOf(":");
    const name = colon < 0 ? "" : entry.slice(0, colon);
    if (!isValidKeyName(name)) throw config(`${where}: expected '<name>:<base64 seed>' with a name without spaces or '+'`);
    if (seen.has(name)) throw config(`${where}: key name '${name}' is listed twice`);
    seen.add(name);
    let seed: Uint8Array;
    try {
      seed = fromBase64(entry.slice(colon + 1));
    } catch {
      throw config(`${where} (${name}): the seed is not valid base64`);
    }
    // One spelling per seed: stray bits in the last base64 symbol are refused.
    if (toBase64(seed) !== entry.slice(colon + 1)) throw config(`${where} (${name}): the seed is not canonical base64`);
    if (seed.length !== SEED_BYTES) throw config(`${where} (${name}): the seed is ${seed.length} bytes; Ed25519 needs ${SEED_BYTES}`);
    return { name, seed };
  });
}

async function buildKeyring(secret: string | undefined): Promise<SigningKeyring> {
  const specs = parseSigningKeys(secret);
  const pairs = await Promise.all(specs.map((s) => noteKeysFromSeed(s.name, s.seed)));
  const signers = await Promise.all(pairs.map((p) => parseSignerKey(p.signerKey)));
  return {
    keys: signers.map((s) => ({ name: s.name, keyId: keyIdHex(s.keyId), verifierKey: s.verifierKey })),
    active: signers[signers.length - 1] as NoteSigner,
  };
}

// Importing Ed25519 keys is async and costs a little: once per distinct secret value per isolate.
const keyrings = new Map<string, Promise<SigningKeyring>>();

/** The parsed, imported keyring for a secret value; a failed parse is not cached. */
export function signingKeyring(secret: string | undefined): Promise<SigningKeyring> {
  const cacheKey = secret ?? "";
  let pending = keyrings.get(cacheKey);
  if (!pending) {
    pending = buildKeyring(secret);
    keyrings.set(cacheKey, pending);
    pending.catch(() => keyrings.delete(cacheKey));
  }
  return pending;
}
