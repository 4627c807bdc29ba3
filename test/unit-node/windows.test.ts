import { describe, expect, it } from "vitest";
import { WINDOWS, windowDenial, windowEnd, windowKey, windowStart } from "../../src/policy/windows";

/** Calendar UTC windows (src/policy/windows.ts), at instants derived from now — never a fixed date. */

const DAY = 86_400_000;
const now = Date.now();

describe("calendar windows", () => {
  it.each(WINDOWS)("%s: start ≤ t < end, the end starts the next window, keys sort by time", (window) => {
    for (let i = 0; i < 50; i++) {
      const t = now + Math.floor(i * 7.3 * DAY) + i * 3_611_111;
      const start = windowStart(window, t);
      const end = windowEnd(window, t);
      expect(start).toBeLessThanOrEqual(t);
      expect(end).toBeGreaterThan(t);
      expect(windowKey(window, start)).toBe(windowKey(window, t));
      expect(windowKey(window, end - 1)).toBe(windowKey(window, t));
      expect(windowKey(window, end) > windowKey(window, t)).toBe(true);
      expect(windowStart(window, end)).toBe(end);
    }
  });

  it("7d is the ISO week: it starts on a Monday 00:00 UTC and lasts 7 days", () => {
    for (let i = 0; i < 14; i++) {
      const t = now + i * DAY;
      const start = windowStart("7d", t);
      expect(new Date(start).getUTCDay()).toBe(1);
      expect(start % DAY).toBe(0);
      expect(windowEnd("7d", t) - start).toBe(7 * DAY);
    }
  });

  it("a requests limit counts the request itself; Retry-After is the time to the window's end", () => {
    const t = windowStart("1h", now) + 600_000;
    const totals = () => ({ tokens: 0, spendMicros: 0, requests: 2 });
    expect(windowDenial([{ window: "1h", requests: 3 }], totals, 1, 1, t, "key")).toBeNull();
    expect(windowDenial([{ window: "1h", requests: 2 }], totals, 1, 1, t, "key")).toMatchObject({ code: "rate_limit_exceeded", retryAfterMs: 3_000_000 });
    expect(windowDenial([{ window: "1d", tokens: 10 }], () => ({ tokens: 5, spendMicros: 0, requests: 0 }), 6, 0, t, "key")?.code).toBe("quota_exceeded");
    expect(windowDenial([{ window: "7d", usdMicros: 10 }], () => ({ tokens: 0, spendMicros: 5, requests: 0 }), 0, 5, t, "key")).toBeNull();
  });
});
