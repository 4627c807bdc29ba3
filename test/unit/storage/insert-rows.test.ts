import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { insertRows, MAX_BOUND_PARAMETERS, type SqlRow } from "../../../durable-objects/key-guard-gathered";

/** The statements insertRows sends, recorded instead of run. */
function recorder() {
  const statements: Array<{ query: string; bindings: Array<string | number | null> }> = [];
  return { statements, sql: { exec: (query: string, ...bindings: Array<string | number | null>) => statements.push({ query, bindings }) } };
}

describe("insertRows: as few statements as the bound-parameter limit allows", () => {
  it("every row once, in order, no statement over the limit, each full but the last", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 400 }), (width, count) => {
        const rows: SqlRow[] = Array.from({ length: count }, (_, r) => Array.from({ length: width }, (_, c) => r * width + c));
        const { statements, sql } = recorder();
        insertRows(sql, "INSERT INTO t (…)", "ON CONFLICT DO NOTHING", rows);
        const perStatement = Math.floor(MAX_BOUND_PARAMETERS / width);
        expect(statements).toHaveLength(Math.ceil(count / perStatement));
        expect(statements.flatMap((s) => s.bindings)).toEqual(rows.flat());
        for (const [i, s] of statements.entries()) {
          expect(s.bindings.length).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
          if (i < statements.length - 1) expect(s.bindings.length).toBe(perStatement * width);
          expect(s.query.match(/\?/g)).toHaveLength(s.bindings.length);
          expect(s.query.endsWith(" ON CONFLICT DO NOTHING")).toBe(true);
        }
      }),
    );
  });

  it("one row is one plain statement", () => {
    const { statements, sql } = recorder();
    insertRows(sql, "INSERT INTO rollups (hour, model)", "ON CONFLICT (hour, model) DO NOTHING", [[1, "m"]]);
    expect(statements).toEqual([{ query: "INSERT INTO rollups (hour, model) VALUES (?, ?) ON CONFLICT (hour, model) DO NOTHING", bindings: [1, "m"] }]);
  });
});
