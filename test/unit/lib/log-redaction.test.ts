import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REDACTED, redact, redactString, registerSecret } from "../../../src/lib/log";

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

/** Puts `secret` somewhere inside a random JSON-like value: in a string, a key, an array, deep down. */
const embedded = (secret: string) =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.tuple(fc.string(), fc.string()).map(([a, b]) => `${a}${secret}${b}`),
      fc.tuple(fc.string(), tie("value")).map(([k, v]) => ({ [`${k}${secret}`]: v })),
      fc.tuple(fc.string({ minLength: 1 }), tie("value")).map(([k, v]) => ({ nested: { [k]: v } })),
      fc.tuple(fc.array(fc.jsonValue(), { maxLength: 3 }), tie("value")).map(([arr, v]) => [...arr, v]),
    ),
  })).value;

describe("log redaction", () => {
  it("removes a registered secret wherever it is embedded in a logged value (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 40 }).filter((s) => !REDACTED.includes(s)),
        (secret) => {
          registerSecret(secret);
          fc.assert(
            fc.property(embedded(secret), (value) => {
              for (const s of strings(redact(value))) expect(s.includes(secret)).toBe(false);
            }),
            { numRuns: 20 },
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it("removes credential-shaped strings even when nobody registered them", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("vk_", "sk-", "sk-ant-", "AIza"),
        fc.stringMatching(/^[A-Za-z0-9]{30,40}$/),
        fc.string(),
        fc.string(),
        (prefix, body, before, after) => {
          const token = `${prefix}${body}`;
          const out = redactString(`${before} ${token} ${after}`);
          expect(out.includes(token)).toBe(false);
        },
      ),
    );
  });

  it("redacts header-like fields by name and bearer credentials in free text", () => {
    expect(redact({ authorization: "Bearer abc", "x-api-key": "k", nested: { token: "t", ok: "fine" } })).toEqual({
      authorization: REDACTED,
      "x-api-key": REDACTED,
      nested: { token: REDACTED, ok: "fine" },
    });
    expect(redactString("sent Authorization: Bearer supersecret123 upstream")).not.toContain("supersecret123");
    expect(redactString('{"api_key": "plaintextkey99"}')).not.toContain("plaintextkey99");
  });
});
