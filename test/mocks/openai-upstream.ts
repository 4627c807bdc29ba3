import { handleMockRequest } from "../../src/providers/mock/mock-upstream";
import { cutStream, type MockControl, scriptedResponse } from "./control";
import { openAiResponses } from "./openai-responses";

/**
 * A mock OpenAI (and OpenAI-compatible) server per reference §1 and the §6 checklist: bearer auth
 * with OpenAI's 401 body, rate-limit headers, and the built-in mock's exact buffered/stream format
 * (chat completions, embeddings); /v1/responses per openai-responses.ts.
 */
export async function openAiUpstream(request: Request, control: MockControl, path: string): Promise<Response> {
  const auth = request.headers.get("authorization");
  const key = auth?.startsWith("Bearer ") ? auth.slice(7) : null;
  const body =
    request.method === "POST"
      ? await request
          .clone()
          .json()
          .catch(() => null)
      : null;
  control.record({ provider: "openai", path, key, body, at: Date.now() });

  if (!key || key.startsWith("sk-bad")) {
    return Response.json(
      { error: { message: "Incorrect API key provided.", type: "invalid_request_error", param: null, code: "invalid_api_key" } },
      { status: 401 },
    );
  }
  const script = control.take(key, body);
  if (script) {
    const failure = await scriptedResponse(script);
    if (failure) return failure;
  }
  const response = path.endsWith("/responses") ? openAiResponses(body as Record<string, unknown> | null, key, control) : await handleMockRequest(request);
  const headers = new Headers(response.headers);
  headers.set("x-ratelimit-limit-requests", "10000");
  headers.set("x-ratelimit-remaining-requests", "9999");
  headers.set("x-ratelimit-reset-requests", "6ms");
  headers.set("x-request-id", `req_${crypto.randomUUID().replace(/-/g, "")}`);
  headers.set("openai-organization", "org-mock");
  const body2 = script?.cutAfterFrames && response.body ? cutStream(response.body, script.cutAfterFrames) : response.body;
  return new Response(body2, { status: response.status, headers });
}
