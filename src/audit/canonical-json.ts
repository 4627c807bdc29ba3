/**
 * RFC 8785 (JCS) canonical JSON of audit entries. The bytes of an entry are what the HMAC chain
 * and the Merkle leaves commit to, so they must be reproducible by anyone, in any runtime.
 *
 * JCS serialises numbers with ECMAScript's Number-to-string rules, which other languages do not
 * reproduce easily for fractions; audit values are therefore restricted to safe integers,
 * strings, booleans, null, arrays and plain objects, checked before canonicalisation.
 */
import canonicalize from "canonicalize";
import * as z from "zod";
import { utf8 } from "../lib/bytes";
import type { Bytes } from "./encoding";
import { AuditError } from "./errors";

const MAX_DEPTH = 32;
const LONE_SURROGATE = /\p{Cs}/u;

/** Throws `non_canonical` naming the first value (by JSON path) that JCS must not see. */
export function assertJsonSafe(value: unknown): void {
  check(value, [], 0);
}

/**
 * The path is a stack of keys and indices, joined only when a value fails: building it as a string
 * at every member allocated on every audit entry (≈ 2 KiB per request in the bench's profile,
 * docs/performance.md "Memory").
 */
function fail(path: ReadonlyArray<string | number>, why: string): never {
  const where = path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
  throw new AuditError("non_canonical", `$${where}: ${why}`);
}

function check(value: unknown, path: Array<string | number>, depth: number): void {
  if (depth > MAX_DEPTH) fail(path, "nested too deeply");
  if (value === null || typeof value === "boolean") return;
  if (typeof value === "string") {
    // JCS requires well-formed Unicode; a lone surrogate has no UTF-8 encoding.
    if (LONE_SURROGATE.test(value)) fail(path, "string contains a lone surrogate");
    return;
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) fail(path, `${value} is not a safe integer`);
    if (Object.is(value, -0)) fail(path, "-0 is not allowed");
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) fail(path, `array hole at ${i}`);
      path.push(i);
      check(value[i], path, depth + 1);
      path.pop();
    }
    return;
  }
  if (typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    // A Date or a class instance would be serialised through toJSON or lose its type.
    if (proto !== Object.prototype && proto !== null) fail(path, "not a plain object");
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (LONE_SURROGATE.test(key)) fail(path, "key contains a lone surrogate");
      path.push(key);
      check((value as Record<string, unknown>)[key], path, depth + 1);
      path.pop();
    }
    return;
  }
  fail(path, `${typeof value} is not a JSON value`);
}

/** Canonical JSON text of a JSON-safe value (see `assertJsonSafe`). */
export function canonicalJson(value: unknown): string {
  assertJsonSafe(value);
  const text = canonicalize(value);
  if (text === undefined) throw new AuditError("non_canonical", "value has no JSON form");
  return text;
}

const count = z.int().min(0);

/** One agent request (or a coalesced run of denials). `ts` is unix milliseconds; `cost_micros` is USD × 10^6. */
export const requestEntrySchema = z.strictObject({
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
  /** The agent API (`chat`, `messages`, …): optional, so entries written before it existed stay valid; a pattern rather than a list, so a verifier built today accepts endpoints added later. */
  endpoint: z
    .string()
    .regex(/^[a-z_]{1,32}$/)
    .optional(),
  /**
   * Requests this entry stands for: repeated denials of one kind are coalesced into one entry per
   * key per minute (the first one's request id, model and time). Absent: one request.
   */
  count: z.int().min(1).optional(),
  /**
   * Attribution (issue 16), present only when the request carried it, so entries without it keep
   * their bytes: the end-user id (OpenAI `user` / `safety_identifier`, Anthropic `metadata.user_id`;
   * a longer one is kept as a prefix and a hash) and the `x-keyforge-tags` header's tags.
   */
  user: z.string().min(1).max(128).optional(),
  tags: z
    .array(z.string().regex(/^[A-Za-z0-9._:/-]{1,64}$/))
    .min(1)
    .max(8)
    .optional(),
  /**
   * The output-token bound the gateway added to a request that set none (issue 18; sent to the agent
   * as x-keyforge-max-tokens). Present only then, so other entries keep their bytes.
   */
  injected_max_tokens: z.int().min(1).optional(),
});

/** A policy field's value before and after a change: any JSON (safe integers only, checked by assertJsonSafe). */
const fieldChange = z.strictObject({ before: z.json(), after: z.json() });

/**
 * A control-plane action (`kind: "admin"`): in the control-plane log (key_id "control-plane") one per
 * state-changing admin request; in a key's own log its policy history (created, patched, revoked,
 * rotated). `change` holds policy fields only (field → before/after), never a secret; a provider key
 * appears by id and last4. `action: "aborted"` marks an earlier entry (`ref_seq`) whose change was
 * not applied after all (see src/audit/README.md, "Control plane").
 */
export const adminEntrySchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal("admin"),
  key_id: z.string().min(1).max(128),
  seq: z.int().min(1),
  ts: count,
  request_id: z.string().max(256),
  /** The admin token's name ("root" for ADMIN_TOKEN). */
  actor: z.string().min(1).max(128),
  action: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/),
  /** What was acted on, e.g. "key:<id>", "provider_key:<id>", "admin_token:<id>"; "" when nothing in particular. */
  target: z.string().max(256),
  change: z.record(z.string().max(64), fieldChange).nullable(),
  ref_seq: z.int().min(1).optional(),
});

/** One audit record: an agent request (no `kind`) or an admin action (`kind: "admin"`). */
export const auditEntrySchema = z.union([requestEntrySchema, adminEntrySchema]);

export type RequestEntry = z.infer<typeof requestEntrySchema>;
export type AdminEntry = z.infer<typeof adminEntrySchema>;
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const isAdminEntry = (entry: AuditEntry): entry is AdminEntry => "kind" in entry && entry.kind === "admin";

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
