import { fromBase64 } from "../lib/bytes";
import { VaultError } from "./errors";

/**
 * The key-encryption keys from the `VAULT_KEKS` secret: `v1:<base64 32 bytes>[,v2:<base64>]…`.
 * The last entry is active for new encryptions; every listed version can decrypt. Parsing is
 * strict so a typo in the secret fails loudly at the first use instead of silently encrypting
 * under a wrong or weak key.
 */

export const KEK_BYTES = 32;
const VERSION = /^v[1-9][0-9]{0,5}$/;

export interface Keyring {
  /** Version that new ciphertexts are written under (the last listed). */
  readonly active: string;
  /** Versions in the order listed. */
  readonly versions: readonly string[];
  /** The imported AES-GCM key for a version; throws `unknown_version` if it is not listed. */
  key(version: string): Promise<CryptoKey>;
}

interface ParsedKek {
  version: string;
  raw: Uint8Array<ArrayBuffer>;
}

/** Parses `VAULT_KEKS`; errors name the entry position and version, never the key bytes. */
export function parseKeks(secret: string | undefined): ParsedKek[] {
  if (secret === undefined || secret.trim() === "") {
    throw new VaultError("config", "VAULT_KEKS is not set: expected 'v1:<base64 of 32 bytes>'.");
  }
  const seen = new Set<string>();
  return secret.split(",").map((entry, index) => {
    const where = `VAULT_KEKS entry ${index + 1}`;
    const colon = entry.indexOf(":");
    const version = colon < 0 ? "" : entry.slice(0, colon).trim();
    if (!VERSION.test(version)) {
      throw new VaultError("config", `${where}: expected '<version>:<base64>' with a version like 'v1'.`);
    }
    if (seen.has(version)) throw new VaultError("config", `${where}: version '${version}' is listed twice.`);
    seen.add(version);
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = fromBase64(entry.slice(colon + 1).trim());
    } catch {
      throw new VaultError("config", `${where} (${version}): the key is not valid base64.`);
    }
    if (raw.length !== KEK_BYTES) {
      throw new VaultError("config", `${where} (${version}): the key is ${raw.length} bytes; AES-256 needs ${KEK_BYTES}.`);
    }
    return { version, raw };
  });
}

function buildKeyring(secret: string | undefined): Keyring {
  const keks = parseKeks(secret);
  const raw = new Map(keks.map((k) => [k.version, k.raw]));
  // Importing is async and costs a little: do it once per version per isolate, lazily.
  const imported = new Map<string, Promise<CryptoKey>>();
  return {
    active: keks[keks.length - 1]!.version,
    versions: keks.map((k) => k.version),
    key(version) {
      let pending = imported.get(version);
      if (!pending) {
        const bytes = raw.get(version);
        if (!bytes) return Promise.reject(new VaultError("unknown_version", `No KEK '${version}' in VAULT_KEKS.`));
        // Not extractable: the key bytes cannot be read back out of the CryptoKey.
        pending = crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
        imported.set(version, pending);
      }
      return pending;
    },
  };
}

/**
 * Keyrings cached per isolate, keyed by the secret's value so a changed secret (a new deploy with
 * a rotated KEK list) gets a fresh keyring. Only a handful of distinct values ever exist.
 */
const keyrings = new Map<string, Keyring>();

export function keyringFor(secret: string | undefined): Keyring {
  const cacheKey = secret ?? "";
  let ring = keyrings.get(cacheKey);
  if (!ring) {
    ring = buildKeyring(secret);
    keyrings.set(cacheKey, ring);
  }
  return ring;
}
