import { DurableObject } from "cloudflare:workers";

/** One per provider: health and cooldowns of that provider's keys. Filled in by the pool work. */
export class ProviderPool extends DurableObject<Cloudflare.Env> {}
