import type { TestProject } from "vitest/node";
import { serve } from "../mocks/serve";
import { mockUpstreams } from "../mocks/upstreams";

declare module "vitest" {
  interface ProvidedContext {
    upstreamUrl: string;
  }
}

/** Starts the mock provider upstreams (OpenAI, Anthropic, Gemini wire formats) on loopback. */
export default async function setup(project: TestProject) {
  const served = await serve(mockUpstreams());
  project.provide("upstreamUrl", served.url);
  return () => served.close();
}
