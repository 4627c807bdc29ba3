/** RFC 8785 canonical JSON of audit entries: exact bytes, the integers-only rule, strict parsing. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8 } from "../../../src/lib/bytes";
import { assertJsonSafe, auditEntrySchema, canonicalEntryBytes, canonicalJson, parseCanonicalEntry } from "../../../src/audit/canonical-json";
import { entryFieldsArb, makeEntry } from "./audit-fixtures";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("canonicalJson", () => {
  it("sorts keys by UTF-16 code units and emits no whitespace", () => {
    expect(canonicalJson({ b: [1, { z: null, a: true }], a: "x", "\u00e9": 0, B: -7 })).toBe('{"B":-7,"a":"x","b":[1,{"a":true,"z":null}],"é":0}');
  });

  it("escapes strings as RFC 8785 does", () => {
    expect(canonicalJson(["\u000f", "\n", '"\\', "\u2028", "€", "😀"])).toBe('["\\u000f","\\n","\\"\\\\","\u2028","€","😀"]');
  });

  it("gives the exact bytes of an audit entry", () => {
    const entry = makeEntry("k1", 7);
    expect(decode(canonicalEntryBytes(entry))).toBe(
      '{"completion_tokens":140,"cost_micros":8638,"key_id":"k1","latency_ms":307,"model":"claude-sonnet-4-6",' +
        '"prompt_tokens":107,"provider":"anthropic","request_id":"req_k1_7","seq":7,"status":"expired",' +
        '"stream":false,"ts":1767225607000,"v":1}',
    );
  });

  it.each([
    ["a fraction", { n: 1.5 }],
    ["NaN", [Number.NaN]],
    ["Infinity", { n: Infinity }],
    ["-0", { n: -0 }],
    ["an unsafe integer", { n: 2 ** 53 }],
    ["undefined", { n: undefined }],
    ["a bigint", { n: 1n }],
    ["a function", { f: () => 1 }],
    ["a Date", { d: new Date(0) }],
    ["a class instance", { m: new Map() }],
    ["a lone surrogate", { s: "\ud800" }],
    ["a lone surrogate key", { "\udc00": 1 }],
    ["an array hole", { a: [1, , 3] }], // eslint-disable-line no-sparse-arrays
    ["deep nesting", JSON.parse("[".repeat(40) + "]".repeat(40)) as unknown],
  ])("rejects %s", (_, value) => {
    expect(() => canonicalJson(value)).toThrow(expect.objectContaining({ code: "non_canonical" }));
  });

  it("names the first offending value by its JSON path", () => {
    expect(() => canonicalJson({ a: [1, { b: 1.5 }] })).toThrow("$.a[1].b: 1.5 is not a safe integer");
    expect(() => canonicalJson([0, [null, , 2]])).toThrow("$[1]: array hole at 1"); // eslint-disable-line no-sparse-arrays
    expect(() => canonicalJson({ ok: 1, d: { e: new Date(0) } })).toThrow("$.d.e: not a plain object");
    expect(() => canonicalJson(-0)).toThrow("$: -0 is not allowed");
    // A failed check leaves no state behind: the next value's path starts at the root again.
    expect(() => canonicalJson({ x: undefined })).toThrow("$.x: undefined is not a JSON value");
  });

  it("accepts every JSON value made of safe integers, strings, booleans and null", () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.maxSafeInteger(),
        fc.string({ unit: "grapheme" }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value")),
        fc.dictionary(fc.string(), tie("value")),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        assertJsonSafe(value);
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});

describe("audit entries", () => {
  it("round-trips any entry through canonical bytes, independent of key order", () => {
    fc.assert(
      fc.property(entryFieldsArb, fc.integer({ min: 1, max: 2 ** 40 }), (fields, seq) => {
        const entry = { v: 1 as const, key_id: "key", seq, ...fields };
        const bytes = canonicalEntryBytes(entry);
        expect(parseCanonicalEntry(bytes)).toEqual(entry);
        const reversed = Object.fromEntries(Object.entries(entry).reverse());
        expect(canonicalEntryBytes(reversed)).toEqual(bytes);
      }),
    );
  });

  it.each([
    ["an extra field", { ...makeEntry("k", 1), extra: 1 }],
    ["a missing field", (({ model: _m, ...rest }) => rest)(makeEntry("k", 1))],
    ["fractional tokens", makeEntry("k", 1, { prompt_tokens: 1.5 })],
    ["negative cost", makeEntry("k", 1, { cost_micros: -1 })],
    ["seq 0", makeEntry("k", 0)],
    ["an unknown status", { ...makeEntry("k", 1), status: "pending" }],
    ["version 2", { ...makeEntry("k", 1), v: 2 }],
    ["a string stream flag", { ...makeEntry("k", 1), stream: "true" }],
  ])("rejects an entry with %s", (_, entry) => {
    expect(auditEntrySchema.safeParse(entry).success).toBe(false);
    expect(() => canonicalEntryBytes(entry)).toThrow(expect.objectContaining({ code: "non_canonical" }));
  });

  it("refuses stored bytes that are not the one canonical spelling", () => {
    const canonical = decode(canonicalEntryBytes(makeEntry("k", 3)));
    const object = JSON.parse(canonical) as Record<string, unknown>;
    const spellings = [
      JSON.stringify(object, null, 1),
      JSON.stringify(Object.fromEntries(Object.entries(object).reverse())),
      canonical.replace('"seq":3', '"seq":3.0'),
      canonical.replace('"v":1}', '"v":1,"v":1}'),
      "\ufeff" + canonical,
      canonical + "\n",
    ];
    for (const text of spellings) {
      expect(() => parseCanonicalEntry(utf8(text))).toThrow(expect.objectContaining({ code: "non_canonical" }));
    }
    expect(() => parseCanonicalEntry(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(expect.objectContaining({ code: "non_canonical" }));
    expect(parseCanonicalEntry(utf8(canonical))).toEqual(makeEntry("k", 3));
  });
});
