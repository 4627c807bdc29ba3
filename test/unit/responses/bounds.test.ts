import { describe, expect, it } from "vitest";
import { imageTokens } from "../../../src/proxy/estimate";
import { estimateResponsesPromptTokens, unboundedResponsesField } from "../../../src/responses/bounds";
import { responsesRequestSchema } from "../../../src/responses/schema";

/** The reservation bound of a /v1/responses request, and what a capped key must refuse. */

const parse = (body: Record<string, unknown>) => responsesRequestSchema.parse({ model: "gpt-5.4", input: "x", ...body });

describe("responses bounds", () => {
  it("counts UTF-8 bytes / 3 of the whole body, images at the model's fixed allowance instead of their base64", () => {
    const text = parse({ input: "x".repeat(3000) });
    expect(estimateResponsesPromptTokens(text, "gpt-5.4")).toBe(Math.ceil(JSON.stringify(text).length / 3));
    const image = { type: "input_image", image_url: `data:image/png;base64,${"A".repeat(300_000)}` };
    const withImages = parse({
      input: [
        { role: "user", content: [image, image] },
        { type: "function_call_output", call_id: "c", output: [image] },
      ],
    });
    const estimate = estimateResponsesPromptTokens(withImages, "gpt-4o-mini");
    expect(estimate).toBeGreaterThan(3 * imageTokens("gpt-4o-mini"));
    expect(estimate).toBeLessThan(3 * imageTokens("gpt-4o-mini") + 200);
  });

  it("names the first field a capped key must refuse, and its kind", () => {
    expect(
      unboundedResponsesField(
        parse({
          tools: [
            { type: "function", name: "f" },
            { type: "custom", name: "g" },
          ],
        }),
        null,
      ),
    ).toBeNull();
    expect(unboundedResponsesField(parse({}), "previous_response_id")).toMatchObject({ param: "previous_response_id", kind: "tokens" });
    expect(unboundedResponsesField(parse({ tools: [{ type: "function", name: "f" }, { type: "web_search_preview" }] }), null)).toMatchObject({
      param: "tools[1]",
      kind: "tokens",
    });
    expect(unboundedResponsesField(parse({ tools: [{ type: "image_generation" }] }), null)).toMatchObject({ kind: "dollars" });
    expect(unboundedResponsesField(parse({ input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }] }), null)).toMatchObject({
      param: "input[0].content[0]",
      kind: "tokens",
    });
    expect(unboundedResponsesField(parse({ service_tier: "priority" }), null)).toMatchObject({ param: "service_tier", kind: "dollars" });
    expect(unboundedResponsesField(parse({ service_tier: "flex" }), null)).toBeNull();
  });
});
