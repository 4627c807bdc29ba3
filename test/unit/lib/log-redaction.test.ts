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

/**
 * The logging policy, checked on the source: only src/lib/log.ts touches `console` (so every line
 * goes through redaction), and no log call is handed a request or response, a body or headers.
 * Bodies and headers carry prompts, completions and credentials; they are never logged by default.
 */

const SOURCES = import.meta.glob(["../../../src/**/*.ts", "../../../durable-objects/**/*.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

/** The argument text of every `name(` call in `source` (balanced parentheses). */
function callsOf(source: string, name: RegExp): string[] {
  const out: string[] = [];
  for (const match of source.matchAll(name)) {
    let depth = 0;
    let i = match.index + match[0].length - 1;
    const start = i;
    for (; i < source.length; i++) {
      if (source[i] === "(") depth++;
      else if (source[i] === ")" && --depth === 0) break;
    }
    out.push(source.slice(start, i + 1));
  }
  return out;
}

/** What a log call must not be given: the request or response objects, or their bodies / headers. */
const FORBIDDEN = /\b(c\.req|request|response|res|req|body|headers|rawBody)\b|\.text\(|\.json\(/;

describe("logging policy", () => {
  const files = Object.entries(SOURCES);

  it("reads the sources", () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it("only src/lib/log.ts writes to the console", () => {
    const offenders = files.filter(([path, text]) => !path.endsWith("/src/lib/log.ts") && /\bconsole\.\w+\(/.test(text)).map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it("no log call is given a request, a response, a body or headers", () => {
    const calls = files.flatMap(([path, text]) => callsOf(text, /\blog(?:Error|Warn)\(/g).map((args) => [path, args] as const));
    expect(calls.length).toBeGreaterThan(5);
    // String literals (the message) may say anything; the code passed in may not.
    const offenders = calls.filter(([, args]) => FORBIDDEN.test(args.replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '""')));
    expect(offenders).toEqual([]);
    console.log(`[logging] ${calls.length} log calls in ${files.length} source files checked`);
  });
});
