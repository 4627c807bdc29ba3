import { describe, expect, it } from "vitest";
import { noteKeysFromSeed } from "../src/audit/note-keys";
import { parseSigningKeys, signingKeyring } from "../src/audit/signing-keys";
import { toBase64 } from "../src/lib/bytes";

/** AUDIT_SIGNING_KEYS parsing: strict, the last key active, errors that never show a seed. */

const seed = (fill: number, length = 32) => toBase64(new Uint8Array(length).fill(fill));

describe("AUDIT_SIGNING_KEYS", () => {
  it("parses one or more keys; the last is active; every key is listed with its C2SP key id", async () => {
    const ring = await signingKeyring(` old-key:${seed(1)} , keyforge.dev/new:key:${seed(2)}`);
    const [old, current] = [
      await noteKeysFromSeed("old-key", new Uint8Array(32).fill(1)),
      await noteKeysFromSeed("keyforge.dev/new:key", new Uint8Array(32).fill(2)),
    ];
    expect(ring.keys).toEqual([
      { name: "old-key", keyId: old.verifierKey.split("+")[1], verifierKey: old.verifierKey },
      { name: "keyforge.dev/new:key", keyId: current.verifierKey.split("+")[1], verifierKey: current.verifierKey },
    ]);
    expect(ring.active.verifierKey).toBe(current.verifierKey);
  });

  it.each([
    ["unset", undefined, "is not set"],
    ["blank", "  ", "is not set"],
    ["no name", `:${seed(1)}`, "entry 1"],
    ["no colon", seed(1), "entry 1"],
    ["a space in the name", `my key:${seed(1)}`, "entry 1"],
    ["a '+' in the name", `my+key:${seed(1)}`, "entry 1"],
    ["a trailing comma", `a:${seed(1)},`, "entry 2"],
    ["a repeated name", `a:${seed(1)},a:${seed(2)}`, "listed twice"],
    ["not base64", "a:not*base64", "not valid base64"],
    ["non-canonical base64", `a:${seed(1).slice(0, -2)}F=`, "not canonical"],
    ["a short seed", `a:${seed(1, 31)}`, "31 bytes"],
    ["a long seed", `a:${seed(1, 33)}`, "33 bytes"],
  ])("refuses %s, naming the entry but never the seed", (_what, secret, message) => {
    let error: unknown;
    try {
      parseSigningKeys(secret);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain(seed(1).slice(0, 12));
  });

  it("a failed parse is not cached: the same value fails again, a fixed value works", async () => {
    await expect(signingKeyring("a:short")).rejects.toThrow();
    await expect(signingKeyring("a:short")).rejects.toThrow();
    await expect(signingKeyring(`a:${seed(3)}`)).resolves.toMatchObject({ active: { name: "a" } });
  });
});
