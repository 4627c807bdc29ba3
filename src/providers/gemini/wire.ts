import * as z from "zod";

/** Gemini `generateContent` shapes (reference §3.2–§3.5): request types we build, schemas for what we read. */

export type Part =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType: string; fileUri: string } }
  | { functionCall: { name: string; args: Record<string, unknown> } }
  | { functionResponse: { name: string; response: Record<string, unknown> } };

export interface Content {
  role: "user" | "model";
  parts: Part[];
}

export interface FunctionDeclaration {
  name: string;
  description?: string;
  parametersJsonSchema?: Record<string, unknown>;
}

export interface FunctionCallingConfig {
  mode: "AUTO" | "ANY" | "NONE";
  allowedFunctionNames?: string[];
}

export interface GenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  responseMimeType?: "application/json";
  responseJsonSchema?: Record<string, unknown>;
  thinkingConfig?: { thinkingBudget: number };
}

export interface GenerateContentBody {
  contents: Content[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: FunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: FunctionCallingConfig };
  generationConfig?: GenerationConfig;
}

const count = z.number().int().nonnegative();

export const usageMetadataSchema = z.looseObject({
  promptTokenCount: count.optional(),
  cachedContentTokenCount: count.optional(),
  candidatesTokenCount: count.optional(),
  toolUsePromptTokenCount: count.optional(),
  thoughtsTokenCount: count.optional(),
  totalTokenCount: count.optional(),
});
export type UsageMetadata = z.infer<typeof usageMetadataSchema>;

export const partSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  functionCall: z.looseObject({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).nullable().optional() }).optional(),
});
export type WirePart = z.infer<typeof partSchema>;

export const candidateSchema = z.looseObject({
  content: z
    .looseObject({ parts: z.array(partSchema).optional() })
    .nullable()
    .optional(),
  finishReason: z.string().optional(),
  index: z.number().int().nonnegative().optional(),
});
export type Candidate = z.infer<typeof candidateSchema>;

export const responseSchema = z.looseObject({
  candidates: z.array(candidateSchema).optional(),
  promptFeedback: z.looseObject({ blockReason: z.string().optional() }).nullable().optional(),
  usageMetadata: usageMetadataSchema.nullable().optional(),
  responseId: z.string().optional(),
});
export type GenerateContentResponse = z.infer<typeof responseSchema>;

/** `{"error":{code, message, status, details:[…]}}`; only the fields used for classification. */
export const errorBodySchema = z.looseObject({
  error: z.looseObject({
    status: z.unknown().optional(),
    message: z.unknown().optional(),
    details: z.array(z.looseObject({ "@type": z.unknown().optional() })).optional(),
  }),
});
