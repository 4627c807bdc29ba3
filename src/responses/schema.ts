import * as z from "zod";

/**
 * `POST /v1/responses` as the gateway accepts it (reference agent-apis §1.2). Only the fields the
 * gateway reads are validated, so bad input gets a 400 naming the `param`; every other field
 * (Codex's `client_metadata`, `prompt_cache_options`, …) is tolerated and, for OpenAI, forwarded.
 * Input items are checked one by one where they are translated (to-chat.ts): OpenAI validates its
 * own, so a native request is not held to the translator's stricter rules.
 */

const item = z.looseObject({ type: z.string().min(1).optional() });

const functionTool = z.looseObject({
  type: z.literal("function"),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 of a-z, A-Z, 0-9, _ and -"),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});
/** Any tool; a `function` tool must also match functionTool (built-ins such as web_search, mcp, custom pass). */
const tools = z.array(z.looseObject({ type: z.string().min(1) })).superRefine((list, ctx) => {
  list.forEach((tool, i) => {
    if (tool.type !== "function") return;
    const parsed = functionTool.safeParse(tool);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: [i, ...issue.path] });
    }
  });
});

const toolChoice = z.union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.string().min(1) })]);

const textFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 of a-z, A-Z, 0-9, _ and -"),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullable().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.union([z.string(), z.array(item)]),
  instructions: z.string().nullable().optional(),
  tools: tools.optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z.looseObject({ format: textFormat.optional(), verbosity: z.string().nullable().optional() }).nullable().optional(),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  reasoning: z.looseObject({ effort: z.string().nullable().optional(), summary: z.string().nullable().optional() }).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  background: z.boolean().nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  conversation: z
    .union([z.string(), z.looseObject({ id: z.string() })])
    .nullable()
    .optional(),
  include: z.array(z.string()).nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  truncation: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
export type ResponsesTool = NonNullable<ResponsesRequest["tools"]>[number];
export type FunctionToolParam = z.infer<typeof functionTool>;

export function isFunctionTool(tool: ResponsesTool): tool is FunctionToolParam {
  return tool.type === "function";
}
