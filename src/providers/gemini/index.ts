export { geminiAdapter } from "./adapter";
