import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64 } from "../../../src/lib/bytes";
import { VaultError } from "../../../src/vault/errors";
import { kekVersionOf, Vault } from "../../../src/vault/vault";

const kek = (seed: number) => toBase64(Uint8Array.from({ length: 32 }, (_, i) => (seed * 31 + i * 7) & 0xff));
const V1 = `v1:${kek(1)}`;
const V2 = `v2:${kek(2)}`;
const vault = (keks: string) => Vault.fromEnv({ VAULT_KEKS: keks });
const row = { provider: "openai", id: "pk_0123456789abcdef" };
const SECRET = "sk-proj-THIS-IS-THE-PLAINTEXT-0123456789";

async function failure(promise: Promise<unknown>): Promise<VaultError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VaultError);
  const vaultError = err as VaultError;
  // Whatever went wrong, the error never carries the secret or key material.
  expect(vaultError.message).not.toContain(SECRET);
  expect(vaultError.message).not.toContain(kek(1));
  return vaultError;
}

describe("vault", () => {
  it("round-trips, with the KEK version as prefix and a fresh IV every time", async () => {
    const v = vault(V1);
    const a = await v.encrypt(SECRET, row);
    const b = await v.encrypt(SECRET, row);
    expect(a).toMatch(/^v1:[A-Za-z0-9+/]+={0,2}$/);
    expect(a).not.toEqual(b);
    expect(fromBase64(a.slice(3)).length).toBe(12 + new TextEncoder().encode(SECRET).length + 16);
    expect(await v.decrypt(a, row)).toBe(SECRET);
    expect(await v.decrypt(b, row)).toBe(SECRET);
  });

  it("round-trips arbitrary strings", async () => {
    const v = vault(V1);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 200 }), async (plain) => {
        expect(await v.decrypt(await v.encrypt(plain, row), row)).toBe(plain);
      }),
      { numRuns: 50 },
    );
  });

  it("fails for a ciphertext moved to another row (other id or other provider)", async () => {
    const v = vault(V1);
    const sealed = await v.encrypt(SECRET, row);
    expect((await failure(v.decrypt(sealed, { ...row, id: "pk_other" }))).code).toBe("auth_failed");
    expect((await failure(v.decrypt(sealed, { ...row, provider: "anthropic" }))).code).toBe("auth_failed");
    // The AAD encoding is injective: shifting a separator between provider and id does not collide.
    const tricky = await v.encrypt(SECRET, { provider: "a", id: "bc" });
    expect((await failure(v.decrypt(tricky, { provider: "ab", id: "c" }))).code).toBe("auth_failed");
  });

  it("fails on any single flipped bit anywhere: prefix, IV, body or tag", async () => {
    const v = vault(`${V1},v3:${kek(3)}`);
    const sealed = await v.encrypt(SECRET, row);
    const [prefix, body] = [sealed.slice(0, 3), fromBase64(sealed.slice(3))];
    // Bits of the raw bytes (IV 0–11, ciphertext, tag = last 16), re-encoded canonically.
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: body.length * 8 - 1 }), async (bit) => {
        const flipped = body.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        await failure(v.decrypt(prefix + toBase64(flipped), row));
      }),
      { numRuns: 300 },
    );
    // Bits of the stored text itself, including the `v3:` prefix and base64 padding characters.
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: sealed.length * 8 - 1 }), async (bit) => {
        const index = bit >> 3;
        const mutated = sealed.slice(0, index) + String.fromCharCode(sealed.charCodeAt(index) ^ (1 << (bit & 7))) + sealed.slice(index + 1);
        await failure(v.decrypt(mutated, row));
      }),
      { numRuns: 500 },
    );
  });

  it("rejects truncated or padded ciphertexts and non-canonical base64", async () => {
    const v = vault(V1);
    const sealed = await v.encrypt(SECRET, row);
    const bytes = fromBase64(sealed.slice(3));
    await failure(v.decrypt(`v1:${toBase64(bytes.slice(0, -1))}`, row));
    await failure(v.decrypt(`v1:${toBase64(new Uint8Array([...bytes, 0]))}`, row));
    await failure(v.decrypt(`v1:${toBase64(bytes.slice(0, 27))}`, row));
    await failure(v.decrypt("v1:", row));
    await failure(v.decrypt(sealed.slice(3), row));
    await failure(v.decrypt(`${sealed}\n`, row));
  });

  it("fails clearly on an unknown KEK version", async () => {
    const sealed = await vault(`${V1},${V2}`).encrypt(SECRET, row);
    expect(kekVersionOf(sealed)).toBe("v2");
    const err = await failure(vault(V1).decrypt(sealed, row));
    expect(err.code).toBe("unknown_version");
    expect(err.message).toContain("v2");
  });
});

describe("vault rotation", () => {
  it("keeps every key decryptable and moves rows to the new version", async () => {
    const before = vault(V1);
    const rows = Array.from({ length: 5 }, (_, i) => ({ provider: i % 2 ? "openai" : "gemini", id: `pk_${i}`, secret: `${SECRET}-${i}` }));
    const stored = await Promise.all(rows.map((r) => before.encrypt(r.secret, r)));

    // Step 1: v2 appended as the last entry. New writes use v2; v1 rows still decrypt.
    const during = vault(`${V1},${V2}`);
    expect(during.activeVersion).toBe("v2");
    expect(kekVersionOf(await during.encrypt("x", row))).toBe("v2");
    for (const [i, r] of rows.entries()) expect(await during.decrypt(stored[i]!, r)).toBe(r.secret);

    // Step 2: rewrap every row; a second rewrap is a no-op.
    const rewrapped = await Promise.all(rows.map((r, i) => during.rewrap(stored[i]!, r)));
    expect(rewrapped.map(kekVersionOf)).toEqual(rows.map(() => "v2"));
    expect(await Promise.all(rows.map((r, i) => during.rewrap(rewrapped[i]!, r)))).toEqual(rewrapped);

    // Step 3: v1 removed. Every row still decrypts; an un-rewrapped one fails clearly.
    const after = vault(V2);
    for (const [i, r] of rows.entries()) expect(await after.decrypt(rewrapped[i]!, r)).toBe(r.secret);
    expect((await failure(after.decrypt(stored[0]!, rows[0]!))).code).toBe("unknown_version");
  });

  it("rewrap refuses a ciphertext that does not belong to the row", async () => {
    const sealed = await vault(V1).encrypt(SECRET, row);
    expect((await failure(vault(`${V1},${V2}`).rewrap(sealed, { ...row, id: "pk_x" }))).code).toBe("auth_failed");
  });
});
