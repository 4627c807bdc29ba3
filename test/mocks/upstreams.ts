import { anthropicUpstream } from "./anthropic-upstream";
import { MockControl } from "./control";
import { geminiUpstream } from "./gemini-upstream";
import type { FetchHandler } from "./serve";
import { openAiUpstream } from "./openai-upstream";
import { webhookReceiver } from "./webhook-receiver";

/**
 * All mock providers behind one loopback server: /openai/v1/…, /anthropic/v1/…, /gemini/v1beta/…
 * and their control API at /_mock/…. Under /ns/<name>/ the same routes get a state of their own
 * (recorded requests, scripts): each test file's gateway is pointed at its own namespace, so files
 * running in parallel never see or reset each other's scripted faults.
 */
export function mockUpstreams(control = new MockControl()): FetchHandler {
  const namespaces = new Map<string, MockControl>();
  return async (original) => {
    const { request, name } = unprefixed(original);
    let state = control;
    if (name !== null) {
      state = namespaces.get(name) ?? new MockControl();
      namespaces.set(name, state);
    }
    const controlled = await state.handle(request);
    if (controlled) return controlled;
    // Tracked so that a test can see whether the gateway aborted the call (`aborted` in /_mock/requests).
    return state.track(request, () => dispatch(request, state));
  };
}

/** Strips a leading /ns/<name> from the path; the request is otherwise unchanged. */
function unprefixed(request: Request): { request: Request; name: string | null } {
  const url = new URL(request.url);
  const match = /^\/ns\/([A-Za-z0-9_-]+)(\/.*)$/.exec(url.pathname);
  if (!match) return { request, name: null };
  url.pathname = match[2]!;
  return { request: new Request(url, request), name: match[1]! };
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
    case "webhook-receiver":
      return webhookReceiver(request, control, path);
    default:
      return Response.json({ error: { message: `no mock for ${provider}` } }, { status: 404 });
  }
}
