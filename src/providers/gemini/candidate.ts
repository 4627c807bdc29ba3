import type { Candidate } from "./wire";

/** What one Gemini candidate (or one streamed piece of it) says, in OpenAI terms. */
export interface CandidateOutput {
  text: string;
  reasoning: string;
  calls: Array<{ name: string; arguments: string }>;
}

export function candidateOutput(candidate: Candidate): CandidateOutput {
  const out: CandidateOutput = { text: "", reasoning: "", calls: [] };
  for (const part of candidate.content?.parts ?? []) {
    if (part.functionCall) {
      out.calls.push({ name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) });
    } else if (typeof part.text === "string") {
      // Thought summaries (`thought: true`) are reasoning, not answer text.
      if (part.thought) out.reasoning += part.text;
      else out.text += part.text;
    }
  }
  return out;
}

/**
 * Gemini gives function calls no reliable ids (reference §3.3), so they are made up: `call_`, the
 * response id (unique per response; the gateway request id when absent) and a counter in order
 * of appearance. Buffered and streamed translations of the same response get the same ids.
 */
export function toolCallIdPrefix(responseId: string | undefined, requestId: string): string {
  const base = (responseId ?? requestId).replace(/[^A-Za-z0-9_-]/g, "");
  return `call_${base || "gemini"}_`;
}
