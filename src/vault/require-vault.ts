import { GatewayError } from "../errors";
import { VaultError } from "./errors";
import { Vault } from "./vault";

/** The vault, or a 500 whose public message names the secret to fix (detail goes to logs only). */
export function requireVault(env: { VAULT_KEKS?: string | undefined }): Vault {
  try {
    return Vault.fromEnv(env);
  } catch (err) {
    if (err instanceof VaultError) {
      throw new GatewayError("internal_error", "The vault is not configured correctly (VAULT_KEKS).", { detail: err.message });
    }
    throw err;
  }
}
