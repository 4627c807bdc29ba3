import "./env";
import { app } from "./app";

export { KeyGuard } from "../durable-objects/key-guard";
export { ProviderPool } from "../durable-objects/provider-pool";
export { BudgetGuard } from "../durable-objects/budget-guard";
export { WebhookDispatcher } from "../durable-objects/webhook-dispatcher";
export { ControlPlaneLog } from "../durable-objects/control-plane-log";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Cloudflare.Env>;
