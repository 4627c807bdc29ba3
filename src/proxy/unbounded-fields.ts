import type { ChatCompletionRequest } from "../openai/schema";

/**
 * Request fields whose cost the gateway cannot bound before the call, so a capped key refuses them
 * (400 naming the field) instead of reserving a guess. `tokens`: the provider adds input the request
 * does not carry, so no token or dollar cap can hold. `dollars`: the tokens are bounded but billed at
 * rates the price table does not have, so only a spend cap is at risk.
 */
export interface UnboundedField {
  param: string;
  kind: "tokens" | "dollars";
  message: string;
}

/** Content parts whose tokens follow from the request body: text, inline audio (by size), images (fixed allowance). */
const BOUNDED_PARTS = new Set(["text", "image_url", "input_audio", "refusal"]);
/** Service tiers billed at (or under) the list prices. */
const LIST_PRICE_TIERS = new Set(["auto", "default", "flex"]);

function refuse(param: string, kind: UnboundedField["kind"], why: string): UnboundedField {
  return { param, kind, message: `The parameter '${param}' cannot be used with a capped key: ${why}.` };
}

/** The first field of the request that cannot be bounded, or null. */
export function unboundedField(request: ChatCompletionRequest): UnboundedField | null {
  const loose = request as Record<string, unknown>;
  if (loose.web_search_options != null) {
    return refuse("web_search_options", "tokens", "web search adds search results to the input and per-search fees, neither known in advance");
  }
  for (const [i, message] of request.messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    for (const [j, part] of (message.content as Array<{ type: string }>).entries()) {
      if (!BOUNDED_PARTS.has(part.type)) {
        return refuse(
          `messages[${i}].content[${j}]`,
          "tokens",
          `a '${part.type}' part is read by the provider (a file id, a remote document) and its size is not in the request`,
        );
      }
    }
  }
  const modalities = loose.modalities;
  if (Array.isArray(modalities) && modalities.includes("audio")) {
    return refuse("modalities", "dollars", "audio output is billed at audio rates the price table does not have");
  }
  if (loose.audio != null) return refuse("audio", "dollars", "audio output is billed at audio rates the price table does not have");
  const tier = loose.service_tier;
  if (tier != null && !(typeof tier === "string" && LIST_PRICE_TIERS.has(tier))) {
    return refuse("service_tier", "dollars", "only 'auto', 'default' and 'flex' are billed at the list prices a spend cap is computed with");
  }
  return null;
}
