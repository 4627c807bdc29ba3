import type { Context } from "hono";
import type * as z from "zod";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_JSON_DEPTH = 64;

export function maxBodyBytes(env: { MAX_BODY_BYTES?: string | undefined }): number {
  const parsed = Number(env.MAX_BODY_BYTES);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : DEFAULT_MAX_BODY_BYTES;
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined || value.trim() === "") return true;
  const type = value.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || type.endsWith("+json");
}

async function readLimited(request: Request, limit: number): Promise<string> {
  const header = request.headers.get("content-length");
  const declared = header === null ? NaN : Number(header);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return "";
  if (Number.isFinite(declared)) {
    // Framed by its length (the usual case): one native read instead of a chunk loop. The size is
    // checked again in case the declared length was not the real one.
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > limit) throw tooLarge(limit);
    return new TextDecoder().decode(bytes);
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError("request_too_large", `Request body is larger than the ${limit}-byte limit.`);
}

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_JSON_DEPTH || value === null || typeof value !== "object") return depth;
  let max = depth;
  for (const child of Object.values(value)) max = Math.max(max, depthOf(child, depth + 1));
  return max;
}

/** The request body as JSON: content type, size and nesting checked; never throws a non-4xx. */
export async function readJson(c: Context<AppEnv>): Promise<unknown> {
  return (await readJsonText(c)).value;
}

/** As readJson, with the body's text too (a native passthrough forwards the client's own bytes). */
export async function readJsonText(c: Context<AppEnv>): Promise<{ text: string; value: unknown }> {
  if (!isJsonContentType(c.req.header("content-type"))) {
    throw new GatewayError("unsupported_media_type", "Content-Type must be application/json.");
  }
  const text = await readLimited(c.req.raw, maxBodyBytes(c.env));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError("invalid_request", "Request body is not valid JSON.");
  }
  if (depthOf(value) > MAX_JSON_DEPTH) {
    throw new GatewayError("invalid_request", `Request body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  return { text, value };
}

/** zod issues → a 400 naming the first offending field (OpenAI's `param`, dotted path). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.length > 0 ? issue.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("") : null;
  const where = param ? `'${param}'` : "body";
  throw new GatewayError("invalid_request", `Invalid ${where}: ${issue.message}`, { param });
}

export async function readBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  return parseWith(schema, await readJson(c));
}
