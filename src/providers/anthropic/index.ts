export { anthropicAdapter } from "./adapter";
export { DEFAULT_MAX_TOKENS as ANTHROPIC_DEFAULT_MAX_TOKENS } from "./request-body";
