import fc from "fast-check";
import { checksumOf } from "../../src/keys/token";

/**
 * Building blocks shared by the fuzz suites: hostile strings and JSON, header values a client can
 * actually send, and `vk_` tokens that are right, nearly right and wrong.
 */

/** Lone UTF-16 surrogates: valid in a JS string and in JSON text, invalid as UTF-8. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: loneSurrogate, minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\u0000", "\u202e", "null", "__proto__", "constructor", "../../", "%00", "${x}", "'\"`") },
  // Large values: kept rare, they dominate run time.
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 60_000 }).map((n) => "λ".repeat(n)) },
);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2),
);

/** Any JSON value, hostile strings and numbers included. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** A value nested `depth` levels deep (the gateway caps JSON nesting at 64). */
export const deeplyNested = fc.tuple(fc.integer({ min: 40, max: 400 }), fc.boolean()).map(([depth, arrays]) => {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { n: v };
  return v;
});

/** A header value that `Headers` accepts (a ByteString without NUL, CR, LF). */
export const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "binary-ascii", maxLength: 60 }).map((s) => s.replace(/[\0\r\n]/g, "")),
);

export const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 24, arbitrary: fc.constant("application/json") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      null,
      "",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/vnd.api+json",
      "application/json;",
      "text/plain",
      "text/json",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      ";",
      "application/json, text/plain",
      "application/jsonx",
      "application/json; charset=utf-16",
    ),
  },
  { weight: 1, arbitrary: headerValue },
);

const base62 = fc.stringMatching(/^[0-9A-Za-z]+$/);
const fixed = (n: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"), minLength: n, maxLength: n });

/** `vk_` tokens: a real one, one with a flipped character, a well-formed unknown one, random junk. */
export function vkToken(real: string): fc.Arbitrary<string> {
  const id = real.slice(3, 19);
  return fc.oneof(
    fc.constant(real),
    // One character changed: the checksum no longer matches (or, rarely, the secret is wrong).
    fc.tuple(fc.integer({ min: 3, max: real.length - 1 }), fixed(1)).map(([i, c]) => `${real.slice(0, i)}${c}${real.slice(i + 1)}`),
    // Well-formed with a valid checksum, but an id no key has.
    fc.tuple(fixed(16), fixed(32)).map(([i, s]) => `vk_${i}${s}${checksumOf(i, s)}`),
    // The real id, another secret, a valid checksum: only the stored hash can tell.
    fixed(32).map((s) => `vk_${id}${s}${checksumOf(id, s)}`),
    // Truncated, extended, wrong prefix.
    fc.integer({ min: 0, max: real.length - 1 }).map((n) => real.slice(0, n)),
    base62.map((extra) => `${real}${extra}`),
    fc.constantFrom("VK_", "vk-", "sk_", "vk").map((p) => `${p}${real.slice(3)}`),
    fc.string({ unit: "binary-ascii", maxLength: 80 }).map((s) => `vk_${s.replace(/[\0\r\n]/g, "")}`),
  );
}

/** The Authorization header (null = absent): right, nearly right and garbled. */
export function authorization(real: string, others: string[] = []): fc.Arbitrary<string | null> {
  const token = vkToken(real);
  return fc.oneof(
    { weight: 6, arbitrary: token.map((t) => `Bearer ${t}`) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom("bearer", "BEARER", "Bearer  ", "Bearer\t", "Token", "Basic", "Bearer:"), token).map(([s, t]) => `${s} ${t}`),
    },
    { weight: 1, arbitrary: fc.constantFrom(null, "", "Bearer", "Bearer ", `Bearer ${real} extra`, `${real}`, ...others.map((o) => `Bearer ${o}`)) },
    { weight: 1, arbitrary: headerValue },
  );
}

export interface SetOptions {
  /** Delete the chosen child instead of replacing it. */
  remove?: boolean;
  /** Name of the child to add where the path stops (default: a new `x_<n>` or an existing key). */
  key?: string;
}

/** Apply `value` at a path chosen by `choices` (each picks a child, or stops), returning a copy. */
export function setAt(root: unknown, choices: number[], value: unknown, opts: SetOptions = {}): unknown {
  if (choices.length === 0 || root === null || typeof root !== "object") return opts.remove ? undefined : value;
  const keys = Object.keys(root);
  const [choice, ...rest] = choices as [number, ...number[]];
  const index = choice % (keys.length + 2);
  const copy: Record<string, unknown> = Array.isArray(root) ? ([...root] as unknown as Record<string, unknown>) : { ...(root as Record<string, unknown>) };
  if (index >= keys.length || rest.length === 0) {
    // Stop here: replace a new or existing child at this level.
    const key = opts.key ?? (index === keys.length || keys.length === 0 ? `x_${choice}` : keys[choice % keys.length]!);
    if (opts.remove) delete copy[key];
    else put(copy, key, value);
    return copy;
  }
  const key = keys[index]!;
  put(copy, key, setAt((root as Record<string, unknown>)[key], rest, value, opts));
  return copy;
}

/** An own property even for `__proto__` (as JSON.parse makes it), never a prototype change. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
