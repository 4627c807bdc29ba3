import "./env";
export { KeyGuard } from "../durable-objects/key-guard";
export { ProviderPool } from "../durable-objects/provider-pool";

export default {
  async fetch(_request, env) {
    const stub = env.KEY_GUARD.getByName("x");
    return new Response(await stub.ping());
  },
} satisfies ExportedHandler<Cloudflare.Env>;
