/**
 * RFC 8785 (JCS) canonical JSON of audit entries. The bytes of an entry are what the HMAC chain
 * and the Merkle leaves commit to, so they must be reproducible by anyone, in any runtime.
 *
 * JCS serialises numbers with ECMAScript's Number-to-string rules, which other languages do not
 * reproduce easily for fractions; audit values are therefore restricted to safe integers,
 * strings, booleans, null, arrays and plain objects, checked before canonicalisation.
 */
import canonicalize from "canonicalize";
import { z } from "zod";
import { utf8 } from "../lib/bytes";
import type { Bytes } from "./encoding";
import { AuditError } from "./errors";

const MAX_DEPTH = 32;
const LONE_SURROGATE = /\p{Cs}/u;

/** Throws `non_canonical` naming the first value (by JSON path) that JCS must not see. */
export function assertJsonSafe(value: unknown, path = "$", depth = 0): void {
  const fail = (why: string): never => {
    throw new AuditError("non_canonical", `${path}: ${why}`);
  };
  if (depth > MAX_DEPTH) fail("nested too deeply");
  if (value === null || typeof value === "boolean") return;
  if (typeof value === "string") {
    // JCS requires well-formed Unicode; a lone surrogate has no UTF-8 encoding.
    if (LONE_SURROGATE.test(value)) fail("string contains a lone surrogate");
    return;
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) fail(`${value} is not a safe integer`);
    if (Object.is(value, -0)) fail("-0 is not allowed");
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) fail(`array hole at ${i}`);
      assertJsonSafe(value[i], `${path}[${i}]`, depth + 1);
    }
    return;
  }
  if (typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    // A Date or a class instance would be serialised through toJSON or lose its type.
    if (proto !== Object.prototype && proto !== null) fail("not a plain object");
    for (const [key, member] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key)) fail("key contains a lone surrogate");
      assertJsonSafe(member, `${path}.${key}`, depth + 1);
    }
    return;
  }
  fail(`${typeof value} is not a JSON value`);
}

/** Canonical JSON text of a JSON-safe value (see `assertJsonSafe`). */
export function canonicalJson(value: unknown): string {
  assertJsonSafe(value);
  const text = canonicalize(value);
  if (text === undefined) throw new AuditError("non_canonical", "value has no JSON form");
  return text;
}

const count = z.int().min(0);

/** One audit record. `ts` is unix milliseconds; `cost_micros` is USD × 10^6. */
export const auditEntrySchema = z.strictObject({
  v: z.literal(1),
  key_id: z.string().min(1).max(128),
  seq: z.int().min(1),
  ts: count,
  request_id: z.string().max(256),
  model: z.string().max(256),
  provider: z.string().max(128),
  status: z.union([z.int().min(0).max(999), z.literal("expired")]),
  prompt_tokens: count,
  completion_tokens: count,
  cost_micros: count,
  latency_ms: count,
  stream: z.boolean(),
});

export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** Validates an entry and returns its canonical JSON bytes (UTF-8). */
export function canonicalEntryBytes(entry: unknown): Bytes {
  const parsed = auditEntrySchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join(".") || "entry" : "entry";
    throw new AuditError("non_canonical", `not an audit entry: ${where}: ${issue?.message ?? "invalid"}`);
  }
  return utf8(canonicalJson(parsed.data));
}

/**
 * Parses stored entry bytes and insists they are already canonical: a second spelling of the
 * same entry would let two different byte strings carry one meaning.
 */
export function parseCanonicalEntry(bytes: Uint8Array): AuditEntry {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    throw new AuditError("non_canonical", "entry bytes are not UTF-8 JSON");
  }
  const canonical = canonicalEntryBytes(value);
  if (canonical.length !== bytes.length || !canonical.every((b, i) => b === bytes[i])) {
    throw new AuditError("non_canonical", "entry bytes are not in RFC 8785 canonical form");
  }
  return auditEntrySchema.parse(value);
}
