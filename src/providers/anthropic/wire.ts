import * as z from "zod";

/** Anthropic Messages API shapes (reference §2.2–§2.4): request types we build, schemas for what we read. */

export const ANTHROPIC_VERSION = "2023-06-01";

export interface CacheControl {
  type: "ephemeral";
  ttl?: "5m" | "1h";
}

export interface TextBlock {
  type: "text";
  text: string;
  cache_control?: CacheControl;
}

export interface ImageBlock {
  type: "image";
  source: { type: "base64"; media_type: string; data: string } | { type: "url"; url: string };
}

export interface ToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface ToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: string | TextBlock[];
}

export type RequestBlock = TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock;

export interface Turn {
  role: "user" | "assistant";
  content: RequestBlock[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type ToolChoice =
  { type: "auto" | "any"; disable_parallel_tool_use?: boolean } | { type: "tool"; name: string; disable_parallel_tool_use?: boolean } | { type: "none" };

export interface MessagesRequestBody {
  model: string;
  max_tokens: number;
  messages: Turn[];
  system?: TextBlock[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  metadata?: { user_id: string };
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  thinking?: { type: "enabled"; budget_tokens: number };
  output_config?: { format: { type: "json_schema"; schema: Record<string, unknown> } };
  stream?: true;
}

export const cacheControlSchema = z.object({
  type: z.literal("ephemeral"),
  ttl: z.enum(["5m", "1h"]).optional(),
});

const count = z.number().int().nonnegative();

/** `Usage` in a Message and `MessageDeltaUsage` in a stream (where every field is optional). */
export const usageSchema = z.looseObject({
  input_tokens: count.nullable().optional(),
  output_tokens: count.nullable().optional(),
  cache_creation_input_tokens: count.nullable().optional(),
  cache_read_input_tokens: count.nullable().optional(),
  /** The writes split by cache lifetime (5-minute writes bill 1.25× input, 1-hour writes 2×). */
  cache_creation: z
    .looseObject({ ephemeral_5m_input_tokens: count.nullable().optional(), ephemeral_1h_input_tokens: count.nullable().optional() })
    .nullable()
    .optional(),
  output_tokens_details: z.looseObject({ thinking_tokens: count.nullable().optional() }).nullable().optional(),
});
export type WireUsage = z.infer<typeof usageSchema>;

export const textBlockSchema = z.looseObject({ type: z.literal("text"), text: z.string() });
export const thinkingBlockSchema = z.looseObject({ type: z.literal("thinking"), thinking: z.string() });
export const toolUseBlockSchema = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});

/** Blocks are checked one by one (see response.ts) so unknown future block types are skipped, not fatal. */
export const messageSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal("message").optional(),
  role: z.literal("assistant").optional(),
  content: z.array(z.looseObject({ type: z.string() })),
  stop_reason: z.string().nullable().optional(),
  usage: usageSchema.nullable().optional(),
});

export const errorBodySchema = z.looseObject({
  error: z.looseObject({
    type: z.unknown().optional(),
    details: z.looseObject({ error_code: z.unknown().optional() }).nullable().optional(),
  }),
});
