import type { Context } from "hono";
import type * as z from "zod";
import type { AppEnv } from "../env";
import { readBody } from "./request-body";

/** A JSON body that may be left out entirely: no body reads as `{}` (so the schema's defaults apply). */
export async function readOptionalBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  if (c.req.raw.body === null || c.req.header("content-length") === "0") return schema.parse({}) as z.infer<S>;
  return readBody(c, schema);
}
