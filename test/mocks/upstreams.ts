import { anthropicUpstream } from "./anthropic-upstream";
import { MockControl } from "./control";
import { geminiUpstream } from "./gemini-upstream";
import type { FetchHandler } from "./serve";
import { openAiUpstream } from "./openai-upstream";

/** All mock providers behind one loopback server: /openai/v1/…, /anthropic/v1/…, /gemini/v1beta/… */
export function mockUpstreams(control = new MockControl()): FetchHandler {
  return async (request) => {
    const controlled = await control.handle(request);
    if (controlled) return controlled;
    // Tracked so that a test can see whether the gateway aborted the call (`aborted` in /_mock/requests).
    return control.track(request, () => dispatch(request, control));
  };
}

async function dispatch(request: Request, control: MockControl): Promise<Response> {
  const { pathname } = new URL(request.url);
  const [, provider, ...rest] = pathname.split("/");
  const path = `/${rest.join("/")}`;
  switch (provider) {
    case "openai":
      return openAiUpstream(request, control, path);
    case "anthropic":
      return anthropicUpstream(request, control, path);
    case "gemini":
      return geminiUpstream(request, control, path);
    default:
      return Response.json({ error: { message: `no mock for ${provider}` } }, { status: 404 });
  }
}
