import fc from "fast-check";
import { hostileJson } from "./arbitraries";

/**
 * Values that satisfy (mostly) a JSON Schema from the gateway's own OpenAPI document, which is built
 * from the zod schemas the routes validate with. Fuzzing from it makes every documented request
 * body and query parameter near-valid by construction, including those of routes added later.
 * Unknown constructs fall back to arbitrary JSON, which is fine for a fuzzer.
 */

export type Schema = Record<string, unknown>;

const MAX_DEPTH = 4;

function patternString(pattern: string): fc.Arbitrary<string> | null {
  try {
    return fc.stringMatching(new RegExp(pattern), { size: "small" });
  } catch {
    return null;
  }
}

/** ISO timestamps around now (past and future), the shapes zod's iso.datetime accepts. */
const dateTime = fc.tuple(fc.integer({ min: -400, max: 400 }), fc.constantFrom("Z", "+00:00", "+05:30", "-08:00"), fc.boolean()).map(([days, zone, millis]) => {
  const iso = new Date(Date.now() + days * 86_400_000 + 60_000).toISOString();
  return `${millis ? iso.slice(0, 23) : iso.slice(0, 19)}${zone}`;
});

function stringFrom(s: Schema): fc.Arbitrary<string> {
  if (s.format === "date-time") return dateTime;
  const fromPattern = typeof s.pattern === "string" ? patternString(s.pattern) : null;
  if (fromPattern) return fromPattern;
  const minLength = typeof s.minLength === "number" ? s.minLength : 0;
  const maxLength = typeof s.maxLength === "number" ? Math.min(s.maxLength, minLength + 40) : minLength + 20;
  return fc.string({ minLength, maxLength });
}

function numberFrom(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + (integer ? 1 : 1e-9) : undefined;
  const max = typeof s.maximum === "number" ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - (integer ? 1 : 1e-9) : undefined;
  if (integer) {
    return fc.integer({
      min: Math.max(min ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
      max: Math.min(max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    });
  }
  return fc.double({ min: min ?? -1e12, max: max ?? 1e12, noNaN: true, noDefaultInfinity: true });
}

function objectFrom(s: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const entries = Object.entries(properties);
  if (entries.length === 0) return fc.dictionary(fc.string({ maxLength: 12 }), hostileJson, { maxKeys: 3 });
  const model = Object.fromEntries(entries.map(([k, v]) => [k, fromSchema(v, depth + 1)]));
  return fc.record(model, { requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)) });
}

function typed(type: string, s: Schema, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "string":
      return stringFrom(s);
    case "integer":
      return numberFrom(s, true);
    case "number":
      return numberFrom(s, false);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const items = (s.items ?? {}) as Schema;
      const minLength = typeof s.minItems === "number" ? s.minItems : 0;
      return fc.array(fromSchema(items, depth + 1), { minLength, maxLength: Math.min(typeof s.maxItems === "number" ? s.maxItems : 3, minLength + 3) });
    }
    case "object":
      return objectFrom(s, depth);
    default:
      return hostileJson;
  }
}

export function fromSchema(s: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return hostileJson;
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const union = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(union) && union.length > 0) return fc.oneof(...union.map((u) => fromSchema(u, depth + 1)));
  if (Array.isArray(s.allOf) && s.allOf.length > 0) return fromSchema(s.allOf[0] as Schema, depth + 1);
  if (Array.isArray(s.type)) return fc.oneof(...(s.type as string[]).map((t) => typed(t, s, depth)));
  if (typeof s.type === "string") return typed(s.type, s, depth);
  if (s.properties) return objectFrom(s, depth);
  return hostileJson;
}

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

/** The operation of a Hono route (`/keys/:id`) in an OpenAPI document (`/keys/{id}`), if documented. */
export function operationOf(doc: { paths: Record<string, Record<string, OpenApiOperation>> }, method: string, path: string): OpenApiOperation | null {
  const templated = path.replace(/:([A-Za-z_]+)/g, "{$1}");
  return doc.paths[templated]?.[method.toLowerCase()] ?? null;
}

export const bodySchemaOf = (op: OpenApiOperation | null): Schema | null => op?.requestBody?.content?.["application/json"]?.schema ?? null;

export const querySchemasOf = (op: OpenApiOperation | null): Array<[string, Schema]> =>
  (op?.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, p.schema ?? {}]);
