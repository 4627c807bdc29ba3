import "./env";
import { app } from "./app";

export { KeyGuard } from "../durable-objects/key-guard";
export { ProviderPool } from "../durable-objects/provider-pool";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Cloudflare.Env>;
