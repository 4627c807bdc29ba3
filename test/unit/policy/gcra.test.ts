import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatResetDuration, gcra, gcraRefund } from "../../../src/policy/gcra";

describe("GCRA", () => {
  it("admits exactly `limit` requests in a burst, then asks to wait one emission interval", () => {
    let tat = 0;
    const now = 1_000_000;
    const admitted: boolean[] = [];
    for (let i = 0; i < 15; i++) {
      const d = gcra(tat, now, 5, 1);
      admitted.push(d.allowed);
      if (d.allowed) tat = d.tat;
    }
    expect(admitted.filter(Boolean)).toHaveLength(5);
    const denied = gcra(tat, now, 5, 1);
    expect(denied).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 12_000, resetMs: 60_000 });
    expect(gcra(tat, now + 12_000, 5, 1).allowed).toBe(true);
    expect(gcra(tat, now + 11_999, 5, 1).allowed).toBe(false);
  });

  it("never admits more than limit units in any 60 s window (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 5 })), { maxLength: 200 }),
        (limit, steps) => {
          let tat = 0;
          let now = 0;
          const admitted: Array<[number, number]> = [];
          for (const [dt, cost] of steps) {
            now += dt;
            const d = gcra(tat, now, limit, cost);
            if (d.allowed) {
              tat = d.tat;
              admitted.push([now, cost]);
            }
          }
          for (const [start] of admitted) {
            const inWindow = admitted.filter(([t]) => t >= start && t < start + 60_000).reduce((n, [, c]) => n + c, 0);
            // A full bucket may be spent at the window's start, plus what refills during it.
            expect(inWindow).toBeLessThanOrEqual(2 * limit);
          }
          const burst = admitted.filter(([t]) => t === admitted[0]?.[0]).reduce((n, [, c]) => n + c, 0);
          expect(burst).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });

  it("refunds unused units without going below now", () => {
    expect(gcraRefund(70_000, 10_000, 100, 10)).toBe(64_000);
    expect(gcraRefund(11_000, 10_000, 100, 100)).toBe(10_000);
  });

  it("formats resets like OpenAI's headers", () => {
    expect(formatResetDuration(6)).toBe("6ms");
    expect(formatResetDuration(1000)).toBe("1s");
    expect(formatResetDuration(12_001)).toBe("13s");
    expect(formatResetDuration(360_000)).toBe("6m0s");
  });
});
