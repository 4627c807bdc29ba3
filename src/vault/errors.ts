/**
 * Vault failures. Messages name the KEK version or the config entry at fault and never carry key
 * material, a plaintext or a ciphertext, so they are safe to log (never to return to a client:
 * routes map them to a generic `internal_error`).
 */
export type VaultErrorCode =
  /** `VAULT_KEKS` is missing or malformed. */
  | "config"
  /** The ciphertext names a KEK version that `VAULT_KEKS` does not hold. */
  | "unknown_version"
  /** The ciphertext string is not `v<n>:<base64(iv || ciphertext+tag)>`. */
  | "malformed"
  /** AES-GCM authentication failed: tampered, or bound to another row (id / provider). */
  | "auth_failed";

export class VaultError extends Error {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.name = "VaultError";
    this.code = code;
  }
}
