import type * as z from "zod/mini";
import { adminErrorSchema } from "./schemas";

/**
 * Calls to the admin API with the bearer token. Every failure becomes an `ApiError` carrying the
 * gateway's public message and request id; a response body is never shown unless it parses as
 * the admin error shape, so an HTML error page from a proxy can never reach the DOM.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface ApiClientOptions {
  token: string;
  /** Called on 401 from any call: the token is wrong or was rotated. */
  onUnauthorized?: (error: ApiError) => void;
  base?: string;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  async request<S extends z.ZodMiniType>(schema: S, method: Method, path: string, body?: unknown): Promise<z.infer<S>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.options.base ?? ""}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      throw new ApiError(0, "network_error", "Could not reach the gateway. Check that it is running and try again.", null);
    }
    if (!response.ok) {
      const error = await toApiError(response);
      if (response.status === 401) this.options.onUnauthorized?.(error);
      throw error;
    }
    const json: unknown = await response.json().catch(() => undefined);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(response.status, "unexpected_response", `Unexpected response from ${method} ${path}.`, response.headers.get("x-request-id"));
    }
    return parsed.data;
  }
}

async function toApiError(response: Response): Promise<ApiError> {
  const headerId = response.headers.get("x-request-id");
  const json: unknown = await response.json().catch(() => undefined);
  const parsed = adminErrorSchema.safeParse(json);
  if (parsed.success) {
    const { code, message, request_id } = parsed.data.error;
    return new ApiError(response.status, code, message, request_id ?? headerId);
  }
  return new ApiError(response.status, "http_error", `The gateway answered HTTP ${response.status}.`, headerId);
}

export const isNotFound = (error: unknown): error is ApiError => error instanceof ApiError && error.status === 404;
