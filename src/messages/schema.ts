import * as z from "zod";

/**
 * The Anthropic Messages request as the gateway accepts it (reference agent-apis §4.3). Only what the
 * gateway itself reads is validated; every other field (and every block's own fields) is an open
 * list that goes to Anthropic untouched, since beta headers and body fields travel in pairs.
 */

const block = z.looseObject({ type: z.string().min(1) });
const content = z.union([z.string(), z.array(block)]);

const message = z.looseObject({
  // `system` turns mid-conversation: Claude Code appends them (MessageParam.role allows it).
  role: z.enum(["user", "assistant", "system"]),
  content,
});

const tool = z.looseObject({
  // Absent or "custom" for a client tool; a dated type (web_search_20250305, bash_20250124, …) otherwise.
  type: z.string().min(1).nullable().optional(),
  name: z.string().min(1),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});

const toolChoice = z.looseObject({ type: z.enum(["auto", "any", "tool", "none"]), name: z.string().min(1).optional() });

const common = {
  model: z.string().min(1).max(256),
  messages: z.array(message).min(1),
  system: content.nullable().optional(),
  tools: z.array(tool).nullable().optional(),
  tool_choice: toolChoice.nullable().optional(),
};

export const messagesRequestSchema = z.looseObject({
  ...common,
  max_tokens: z.number().int().min(1),
  stream: z.boolean().nullable().optional(),
  stop_sequences: z.array(z.string()).nullable().optional(),
  temperature: z.number().min(0).max(1).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  top_k: z.number().int().min(0).nullable().optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).nullable().optional(),
  thinking: z
    .looseObject({ type: z.string().min(1), budget_tokens: z.number().int().min(0).optional() })
    .nullable()
    .optional(),
});

/** `count_tokens` takes the same prompt fields and no `max_tokens` (reference §4.7). */
export const countTokensRequestSchema = z.looseObject(common);

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
export type MessageParam = z.infer<typeof message>;
export type ContentBlock = z.infer<typeof block>;
