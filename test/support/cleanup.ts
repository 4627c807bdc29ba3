import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll } from "vitest";
import type { KeyGuard } from "../../durable-objects/key-guard";
import { scaledTimeout } from "./fuzz-scale";

/**
 * Every test file ends with no alarm pending and no driven clock left behind: an alarm a test
 * scheduled (rollups, checkpoints, reservation expiry) must not fire after its file, and nothing may
 * keep the runtime busy once the last test is done.
 */
afterAll(async () => {
  const ids = await listDurableObjectIds(env.KEY_GUARD);
  for (const id of ids) {
    await runInDurableObject(env.KEY_GUARD.get(id), async (instance: KeyGuard, state) => {
      instance.now = () => Date.now();
      await state.storage.deleteAlarm();
    });
  }
  // A fuzz file leaves an object per forged key id (183 at FUZZ_SCALE=1, ~0.4 s here), and the pool
  // slows each call as they accumulate: the limit grows with the scale (fuzz-scale.ts).
}, scaledTimeout(30_000));
