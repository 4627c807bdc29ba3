import { concatBytes, fromBase64, toBase64, utf8 } from "../lib/bytes";
import { VaultError } from "./errors";
import { type Keyring, keyringFor } from "./keyring";

/**
 * Provider keys at rest: AES-256-GCM (Web Crypto), a fresh random 12-byte IV per encryption, and
 * the row's provider and id bound in as additional authenticated data, so a ciphertext copied to
 * another row fails to decrypt. Stored form: `v<n>:<base64(iv || ciphertext || tag)>`, where `v<n>`
 * names the KEK. Rotation procedure: see README.md in this folder.
 */

/** The row a ciphertext belongs to. */
export interface VaultAad {
  provider: string;
  id: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = /^(v[1-9][0-9]{0,5}):([A-Za-z0-9+/]+={0,2})$/;

/**
 * `keyforge-vault/v1 \0 <kek version> \0 <provider> \0 <id>`. NUL cannot occur in the parts (checked),
 * so the encoding is injective: no two different rows share an AAD. The KEK version is bound too,
 * so relabelling a ciphertext's prefix fails even if two versions held the same key bytes.
 */
function aadBytes(version: string, aad: VaultAad): Uint8Array<ArrayBuffer> {
  if (aad.provider === "" || aad.id === "" || aad.provider.includes("\0") || aad.id.includes("\0")) {
    throw new VaultError("malformed", "Vault AAD needs a non-empty provider and id without NUL characters.");
  }
  return utf8(`keyforge-vault/v1\0${version}\0${aad.provider}\0${aad.id}`);
}

interface Envelope {
  version: string;
  iv: Uint8Array<ArrayBuffer>;
  sealed: Uint8Array<ArrayBuffer>;
}

/**
 * Strict parse. The base64 must be canonical (re-encoding gives the same text): otherwise the
 * unused low bits of the last character could be flipped without changing the bytes.
 */
function parseEnvelope(ciphertext: string): Envelope {
  const match = FORMAT.exec(ciphertext);
  let bytes: Uint8Array<ArrayBuffer> | null = null;
  if (match) {
    try {
      bytes = fromBase64(match[2]!);
    } catch {
      bytes = null;
    }
  }
  if (!match || !bytes || toBase64(bytes) !== match[2] || bytes.length < IV_BYTES + TAG_BYTES) {
    throw new VaultError("malformed", "Vault ciphertext is not in the form 'v<n>:<base64(iv || ciphertext || tag)>'.");
  }
  return { version: match[1]!, iv: bytes.slice(0, IV_BYTES), sealed: bytes.slice(IV_BYTES) };
}

/** The KEK version a ciphertext was written under, e.g. `v1`. */
export function kekVersionOf(ciphertext: string): string {
  return parseEnvelope(ciphertext).version;
}

export class Vault {
  constructor(private readonly keyring: Keyring) {}

  /** The vault for this environment's `VAULT_KEKS`; throws `VaultError("config")` when it is bad. */
  static fromEnv(env: { VAULT_KEKS?: string | undefined }): Vault {
    return new Vault(keyringFor(env.VAULT_KEKS));
  }

  get activeVersion(): string {
    return this.keyring.active;
  }

  async encrypt(plaintext: string, aad: VaultAad): Promise<string> {
    const version = this.keyring.active;
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const key = await this.keyring.key(version);
    const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aadBytes(version, aad), tagLength: TAG_BYTES * 8 }, key, utf8(plaintext));
    return `${version}:${toBase64(concatBytes(iv, new Uint8Array(sealed)))}`;
  }

  /** The plaintext; throws `VaultError` (malformed, unknown_version, auth_failed) without any secret in it. */
  async decrypt(ciphertext: string, aad: VaultAad): Promise<string> {
    const { version, iv, sealed } = parseEnvelope(ciphertext);
    const additionalData = aadBytes(version, aad);
    const key = await this.keyring.key(version);
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData, tagLength: TAG_BYTES * 8 }, key, sealed);
    } catch {
      // Web Crypto gives no detail (by design); the row is tampered or belongs to another id/provider.
      throw new VaultError("auth_failed", `Vault ciphertext under ${version} failed authentication for this row.`);
    }
    return new TextDecoder().decode(plain);
  }

  /**
   * The same secret under the active KEK. Always decrypts first, so a corrupt row is reported
   * rather than skipped; a ciphertext already under the active KEK is returned unchanged, which
   * makes a repeated rewrap a no-op.
   */
  async rewrap(ciphertext: string, aad: VaultAad): Promise<string> {
    const plaintext = await this.decrypt(ciphertext, aad);
    if (kekVersionOf(ciphertext) === this.keyring.active) return ciphertext;
    return this.encrypt(plaintext, aad);
  }
}
