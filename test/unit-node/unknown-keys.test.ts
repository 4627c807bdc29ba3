import { describe, expect, it } from "vitest";
import { forgetUnknownKey, isUnknownKey, rememberUnknownKey, UNKNOWN_KEY_TTL_MS } from "../../src/keys/unknown-keys";

/** The Worker's negative cache of ids with no key: bounded in size and time. */
describe("unknown key ids", () => {
  const now = Date.now();

  it("remembers an id for UNKNOWN_KEY_TTL_MS, then forgets it", () => {
    rememberUnknownKey("ttl-0000000000001", now);
    expect(isUnknownKey("ttl-0000000000001", now + UNKNOWN_KEY_TTL_MS - 1)).toBe(true);
    expect(isUnknownKey("ttl-0000000000001", now + UNKNOWN_KEY_TTL_MS)).toBe(false);
    expect(isUnknownKey("ttl-0000000000001", now)).toBe(false);
  });

  it("forgets an id on demand (key creation)", () => {
    rememberUnknownKey("new-0000000000001", now);
    forgetUnknownKey("new-0000000000001");
    expect(isUnknownKey("new-0000000000001", now)).toBe(false);
  });

  it("holds at most 10,000 ids, evicting the oldest first", () => {
    for (let i = 0; i < 10_050; i++) rememberUnknownKey(`bound-${i}`, now);
    expect(isUnknownKey("bound-0", now)).toBe(false);
    expect(isUnknownKey("bound-49", now)).toBe(false);
    expect(isUnknownKey("bound-50", now)).toBe(true);
    expect(isUnknownKey("bound-10049", now)).toBe(true);
  });
});
