import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SettleRequest } from "../../src/keys/types";
import { queueSettle, SETTLE_BATCH_MAX, SETTLE_FLUSH_MS, type SettleTarget, takeSettles } from "../../src/proxy/settle-batch";

/**
 * src/proxy/settle-batch.ts: a key's settles within SETTLE_FLUSH_MS go in one `settleMany` call,
 * sent by the request that opened the batch; nobody else waits on it (no promise crosses requests).
 */

const settle = (requestId: string): SettleRequest => ({ requestId, status: 200, promptTokens: 1, completionTokens: 2, costMicros: 3, latencyMs: 4 });

function recordingTarget(fail = false): { target: () => SettleTarget; calls: SettleRequest[][] } {
  const calls: SettleRequest[][] = [];
  const target = () => ({
    settleMany: (requests: SettleRequest[]) => {
      calls.push([...requests]);
      return fail ? Promise.reject(new Error("object reset")) : Promise.resolve([]);
    },
  });
  return { target, calls };
}

let id = 0;
const keyId = () => `key-${++id}`;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("settle batches", () => {
  it("the first settle of a key opens a batch and carries it; the others join without waiting on anything", async () => {
    const key = keyId();
    const { target, calls } = recordingTarget();
    const leader = queueSettle(key, target, settle("a"));
    expect(leader).toBeInstanceOf(Promise);
    expect(queueSettle(key, target, settle("b"))).toBeNull();
    expect(queueSettle(key, target, settle("c"))).toBeNull();
    await vi.advanceTimersByTimeAsync(SETTLE_FLUSH_MS - 1);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await leader;
    expect(calls.map((batch) => batch.map((s) => s.requestId))).toEqual([["a", "b", "c"]]);
  });

  it("keys are batched apart, and a settle after the delivery opens a new batch", async () => {
    const [k1, k2] = [keyId(), keyId()];
    const { target, calls } = recordingTarget();
    const first = queueSettle(k1, target, settle("1a"));
    const other = queueSettle(k2, target, settle("2a"));
    expect(other).toBeInstanceOf(Promise);
    await vi.advanceTimersByTimeAsync(SETTLE_FLUSH_MS);
    await Promise.all([first, other]);
    const again = queueSettle(k1, target, settle("1b"));
    expect(again).toBeInstanceOf(Promise);
    await vi.advanceTimersByTimeAsync(SETTLE_FLUSH_MS);
    await again;
    expect(calls.map((batch) => batch.map((s) => s.requestId))).toEqual([["1a"], ["2a"], ["1b"]]);
  });

  it("a full batch takes no more: the next settle leads a new one, and every settle is delivered once", async () => {
    const key = keyId();
    const { target, calls } = recordingTarget();
    const leaders = [];
    for (let i = 0; i < SETTLE_BATCH_MAX * 2 + 1; i++) {
      const lead = queueSettle(key, target, settle(`r${i}`));
      if (lead) leaders.push(lead);
    }
    expect(leaders).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(SETTLE_FLUSH_MS);
    await Promise.all(leaders);
    expect(calls.map((batch) => batch.length)).toEqual([SETTLE_BATCH_MAX, SETTLE_BATCH_MAX, 1]);
    expect(calls.flat().map((s) => s.requestId)).toEqual(Array.from({ length: SETTLE_BATCH_MAX * 2 + 1 }, (_, i) => `r${i}`));
  });

  it("a request about to be admitted takes the open batch with it: the batch's own call is not made", async () => {
    const key = keyId();
    const { target, calls } = recordingTarget();
    expect(takeSettles(key)).toBeUndefined();
    const lead = queueSettle(key, target, settle("t1"));
    queueSettle(key, target, settle("t2"));
    expect(takeSettles(key)?.map((s) => s.requestId)).toEqual(["t1", "t2"]);
    expect(takeSettles(key)).toBeUndefined();
    // The next settle opens a fresh batch; the emptied one sends nothing when its timer fires.
    const next = queueSettle(key, target, settle("t3"));
    expect(next).toBeInstanceOf(Promise);
    await vi.advanceTimersByTimeAsync(SETTLE_FLUSH_MS);
    await Promise.all([lead, next]);
    expect(calls.map((batch) => batch.map((s) => s.requestId))).toEqual([["t3"]]);
  });

  it("a batch on its way is carried by the next admit as well (the two calls are not ordered), until it is answered", async () => {
    const key = keyId();
    let answer!: () => void;
    const calls: SettleRequest[][] = [];
    const target = () => ({
      settleMany: (requests: SettleRequest[]) => {
        calls.push([...requests]);
        return new Promise<void>((resolve) => (answer = resolve));
      },
    });
    const lead = queueSettle(key, target, settle("f1"));
    await vi.advanceTimersByTimeAsync(SETTLE_FLUSH_MS);
    expect(calls).toHaveLength(1);
    queueSettle(key, target, settle("f2"));
    expect(takeSettles(key)?.map((s) => s.requestId)).toEqual(["f2", "f1"]);
    expect(takeSettles(key)?.map((s) => s.requestId)).toEqual(["f1"]);
    answer();
    await lead;
    expect(takeSettles(key)).toBeUndefined();
  });

  it("a failed delivery is logged, never thrown into the request's waitUntil", async () => {
    const key = keyId();
    const { target, calls } = recordingTarget(true);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const lead = queueSettle(key, target, settle("x"));
    await vi.advanceTimersByTimeAsync(SETTLE_FLUSH_MS);
    await expect(lead).resolves.toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(logged.mock.calls.flat().join(" ")).toContain("settle batch failed");
  });
});
