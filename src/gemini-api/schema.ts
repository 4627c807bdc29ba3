import * as z from "zod";

/**
 * Gemini API requests as the gateway accepts them (reference provider-wire-formats §3.2). Only what
 * the gateway reads is validated (a 400 naming the field otherwise); every other field, and every
 * part's own fields (thoughtSignature, executableCode, …), is an open list that goes to Gemini
 * untouched.
 */

const json = z.record(z.string(), z.unknown());

export const partSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  inlineData: z.looseObject({ mimeType: z.string().min(1), data: z.string() }).optional(),
  fileData: z.looseObject({ mimeType: z.string().optional(), fileUri: z.string().min(1) }).optional(),
  functionCall: z.looseObject({ id: z.string().optional(), name: z.string().min(1), args: json.nullable().optional() }).optional(),
  functionResponse: z.looseObject({ id: z.string().optional(), name: z.string().min(1), response: json.nullable().optional() }).optional(),
});

const contentSchema = z.looseObject({
  // Absent in single-turn requests: Gemini reads it as `user`.
  role: z.enum(["user", "model"]).optional(),
  parts: z.array(partSchema).min(1),
});

const declarationSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: json.optional(),
  parametersJsonSchema: z.unknown().optional(),
});

export const generationConfigSchema = z.looseObject({
  maxOutputTokens: z.number().int().min(1).optional(),
  candidateCount: z.number().int().min(1).max(8).optional(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  stopSequences: z.array(z.string()).optional(),
  seed: z.number().int().optional(),
  responseMimeType: z.string().optional(),
  responseSchema: json.optional(),
  responseJsonSchema: z.unknown().optional(),
});

export const generateContentSchema = z.looseObject({
  contents: z.array(contentSchema).min(1),
  systemInstruction: z
    .looseObject({ parts: z.array(partSchema) })
    .nullable()
    .optional(),
  tools: z
    .array(z.looseObject({ functionDeclarations: z.array(declarationSchema).optional() }))
    .nullable()
    .optional(),
  toolConfig: z
    .looseObject({
      functionCallingConfig: z.looseObject({ mode: z.string().optional(), allowedFunctionNames: z.array(z.string()).optional() }).optional(),
    })
    .nullable()
    .optional(),
  generationConfig: generationConfigSchema.nullable().optional(),
  cachedContent: z.string().optional(),
});

/** `countTokens` takes either the contents or a whole `generateContentRequest`. */
export const countTokensSchema = z.looseObject({
  contents: z.array(contentSchema).optional(),
  generateContentRequest: generateContentSchema.optional(),
});

const embedRequestSchema = z.looseObject({
  model: z.string().optional(),
  content: z.looseObject({ parts: z.array(partSchema).min(1) }),
  outputDimensionality: z.number().int().min(1).optional(),
});

export const embedContentSchema = embedRequestSchema;
export const batchEmbedContentsSchema = z.looseObject({ requests: z.array(embedRequestSchema).min(1).max(100) });

export type GeminiPart = z.infer<typeof partSchema>;
export type GeminiContent = z.infer<typeof contentSchema>;
export type GenerateContentRequest = z.infer<typeof generateContentSchema>;
export type CountTokensRequest = z.infer<typeof countTokensSchema>;
export type EmbedRequest = z.infer<typeof embedRequestSchema>;
