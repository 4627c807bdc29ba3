import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../env";
import { adminErrorBody, errorHeaders, GatewayError, openAiErrorBody } from "../errors";
import { isGeminiSurface, renderGeminiError } from "../gemini-api/errors";
import { isAnthropicSurface, renderAnthropicError } from "../messages/errors";
import { logError } from "./log";

/**
 * The one place errors become responses: Anthropic's shape on its surface (/v1/messages…), Gemini's
 * on its own (/v1beta/…, /v1/models/{model}:{method}), OpenAI's elsewhere under /v1,
 * `{error:{code,message,request_id}}` everywhere else.
 */
export function renderError(err: unknown, c: Context<AppEnv>): Response {
  const gatewayError = toGatewayError(err);
  const requestId = c.get("requestId") ?? "";
  if (gatewayError.status >= 500) {
    logError("request failed", { request_id: requestId, code: gatewayError.code, detail: gatewayError.detail ?? describe(err) });
  }
  if (isAnthropicSurface(c)) return renderAnthropicError(gatewayError, c, requestId);
  if (isGeminiSurface(c)) return renderGeminiError(gatewayError, c, requestId);
  const isAgentApi = new URL(c.req.url).pathname.startsWith("/v1/");
  const body = isAgentApi ? openAiErrorBody(gatewayError) : adminErrorBody(gatewayError, requestId);
  const headers = { ...errorHeaders(gatewayError), "x-request-id": requestId };
  return c.json(body, gatewayError.status as 400, headers);
}

function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 413) return new GatewayError("request_too_large", "Request body is too large.");
    if (err.status < 500) return new GatewayError("invalid_request", "The request could not be processed.");
  }
  return new GatewayError("internal_error", "An internal error occurred.", { cause: err });
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
