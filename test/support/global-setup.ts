import type { TestProject } from "vitest/node";
import { serve } from "../mocks/serve";
import { mockUpstreams } from "../mocks/upstreams";

declare module "vitest" {
  interface ProvidedContext {
    upstreamUrl: string;
    /** Seed of the fuzz suites (env FUZZ_SEED; fixed default so every run is reproducible). */
    fuzzSeed: number;
    /** Multiplies the fuzz suites' case counts (env FUZZ_SCALE, default 1) for longer local runs. */
    fuzzScale: number;
    /** Shift of the test clock base in ms (env KEYFORGE_TEST_CLOCK_SHIFT_DAYS, default 0). */
    clockShiftMs: number;
  }
}

const DEFAULT_FUZZ_SEED = 20_260_701;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return value;
}

/** Days to move every test clock base ahead (or back, if negative); 0 when unset. */
function clockShiftDays(): number {
  const raw = process.env.KEYFORGE_TEST_CLOCK_SHIFT_DAYS;
  if (raw === undefined || raw === "") return 0;
  const days = Number(raw);
  if (!Number.isInteger(days)) throw new Error(`KEYFORGE_TEST_CLOCK_SHIFT_DAYS must be a whole number, got '${raw}'`);
  return days;
}

/** Starts the mock provider upstreams (OpenAI, Anthropic, Gemini wire formats) on loopback. */
export default async function setup(project: TestProject) {
  const served = await serve(mockUpstreams());
  project.provide("upstreamUrl", served.url);
  // Tests run inside workerd, which does not see this process's environment: hand the knobs over.
  project.provide("fuzzSeed", envNumber("FUZZ_SEED", DEFAULT_FUZZ_SEED));
  project.provide("fuzzScale", envNumber("FUZZ_SCALE", 1));
  project.provide("clockShiftMs", clockShiftDays() * 86_400_000);
  return () => served.close();
}
