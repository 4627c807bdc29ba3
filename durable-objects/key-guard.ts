import { DurableObject } from "cloudflare:workers";

export class KeyGuard extends DurableObject<Cloudflare.Env> {
  ping(): string {
    return "pong";
  }
}
