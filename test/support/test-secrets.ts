/** Fixed secrets for the test runtime; never used anywhere else. */
export const TEST_SECRETS = {
  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
  KEY_PEPPER: "test-key-pepper-0123456789abcdef",
  VAULT_KEKS: "v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  AUDIT_HMAC_SECRET: "test-audit-hmac-secret-0123456789",
  AUDIT_SIGNING_KEYS: "test-signer:n0dqjRMoHwwBmYGdGCUXhIWcUs1rtYQKbwSW6mDj8xM=",
} as const;
