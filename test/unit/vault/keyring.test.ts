import { describe, expect, it } from "vitest";
import { toBase64 } from "../../../src/lib/bytes";
import { VaultError } from "../../../src/vault/errors";
import { keyringFor, parseKeks } from "../../../src/vault/keyring";
import { TEST_SECRETS } from "../../support/test-secrets";

const b64 = (n: number, fill = 7) => toBase64(new Uint8Array(n).fill(fill));
const K = b64(32);

function configError(secret: string | undefined): string {
  try {
    parseKeks(secret);
  } catch (err) {
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).code).toBe("config");
    const message = (err as VaultError).message;
    // Error messages name the entry, never the key material.
    expect(message).not.toContain(K);
    return message;
  }
  throw new Error("expected a config error");
}

describe("VAULT_KEKS parsing", () => {
  it("accepts the test secret and a rotation list; the last entry is active", () => {
    expect(keyringFor(TEST_SECRETS.VAULT_KEKS).active).toBe("v1");
    const ring = keyringFor(`v1:${K}, v2:${b64(32, 9)}`);
    expect(ring.versions).toEqual(["v1", "v2"]);
    expect(ring.active).toBe("v2");
  });

  it("rejects a missing or empty secret", () => {
    expect(configError(undefined)).toMatch(/not set/);
    expect(configError("  ")).toMatch(/not set/);
  });

  it("rejects bad versions, bad base64, wrong lengths and duplicates, naming the entry", () => {
    expect(configError(K)).toMatch(/entry 1/);
    expect(configError(`1:${K}`)).toMatch(/version/);
    expect(configError(`v0:${K}`)).toMatch(/version/);
    expect(configError(`v1:${K},`)).toMatch(/entry 2/);
    expect(configError(`v1:${K},v2:not*base64`)).toMatch(/entry 2 \(v2\).*base64/);
    expect(configError(`v1:${K.slice(0, -1)}`)).toMatch(/base64/);
    expect(configError(`v1:${b64(16)}`)).toMatch(/16 bytes.*32/);
    expect(configError(`v1:${b64(33)}`)).toMatch(/33 bytes/);
    expect(configError(`v1:${K},v1:${b64(32, 9)}`)).toMatch(/listed twice/);
  });

  it("caches imported keys per isolate and fails clearly for an unknown version", async () => {
    const ring = keyringFor(`v1:${K}`);
    expect(keyringFor(`v1:${K}`)).toBe(ring);
    expect(await ring.key("v1")).toBe(await ring.key("v1"));
    await expect(ring.key("v9")).rejects.toMatchObject({ code: "unknown_version" });
  });
});
