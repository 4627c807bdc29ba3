import { describe, expect, it } from "vitest";
import { boundUser, MAX_TAGS, openAiUser, parseTags } from "../../src/proxy/attribution";

/** Attribution input bounds (src/proxy/attribution.ts): caller-controlled, so bounded before the KeyGuard sees them. */

describe("parseTags", () => {
  it("splits, trims and dedupes; empty is none", () => {
    expect(parseTags(undefined)).toEqual([]);
    expect(parseTags("  ")).toEqual([]);
    expect(parseTags(" team-a , run:42,team-a,org/x.y_z")).toEqual(["team-a", "run:42", "org/x.y_z"]);
    expect(parseTags(Array.from({ length: MAX_TAGS }, (_, i) => `t${i}`).join(","))).toHaveLength(MAX_TAGS);
  });

  it.each(["a b", "a,,b", "x".repeat(65), "é", "a=b", "<script>", Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`).join(",")])(
    "refuses %j with invalid_request naming the header",
    (header) => {
      expect(() => parseTags(header)).toThrow(expect.objectContaining({ code: "invalid_request", param: "x-keyforge-tags" }));
    },
  );
});

describe("boundUser", () => {
  it("keeps a short printable id as it is; none is null", async () => {
    expect(await boundUser("alice@example.com")).toBe("alice@example.com");
    expect(await boundUser("")).toBeNull();
    expect(await boundUser(42)).toBeNull();
    expect(await boundUser(null)).toBeNull();
  });

  it("bounds a long id or one with control characters to a prefix and a hash of the whole, distinct per id", async () => {
    const long = `user_${"a".repeat(200)}`;
    const other = `user_${"a".repeat(199)}b`;
    const a = await boundUser(long);
    const b = await boundUser(other);
    expect(a).toMatch(/^user_a{91}~[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(a!.length).toBeLessThanOrEqual(128);
    expect(await boundUser("bob\nadmin")).toMatch(/^bobadmin~[0-9a-f]{16}$/);
  });

  it("takes OpenAI's user, else safety_identifier", () => {
    expect(openAiUser({ user: "u", safety_identifier: "s" })).toBe("u");
    expect(openAiUser({ safety_identifier: "s" })).toBe("s");
    expect(openAiUser({})).toBeUndefined();
  });
});
