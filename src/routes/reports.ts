import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono, type Context } from "hono";
import { auditReports } from "../db/schema";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";

/**
 * Public, no auth (mounted at /reports; wrangler.toml runs the Worker first for /reports/*):
 *   GET /reports/:id.json   the stored report, immutable, readable from any origin
 *   GET /reports/:id        the verification page: the dashboard build's report.html, which
 *                           fetches the JSON and verifies it in the browser
 * Report ids are unguessable (`rpt_` + 22 base62), so a URL is the capability to read one.
 */
export const reportsRoutes = new Hono<AppEnv>();

const REPORT_ID = /^rpt_[0-9A-Za-z]{22}$/;
const JSON_SUFFIX = ".json";

async function reportBody(db: D1Database, id: string): Promise<string | null> {
  if (!REPORT_ID.test(id)) return null;
  const row = await drizzle(db).select({ body: auditReports.body }).from(auditReports).where(eq(auditReports.id, id)).get();
  return row?.body ?? null;
}

reportsRoutes.get("/:name", async (c) => {
  const name = c.req.param("name");
  const wantsJson = name.endsWith(JSON_SUFFIX);
  const id = wantsJson ? name.slice(0, -JSON_SUFFIX.length) : name;
  const body = await reportBody(c.env.DB, id);
  if (body === null) throw new GatewayError("not_found", `No report with id '${id}'.`);
  if (!wantsJson) return reportPage(c, id);
  return new Response(body, {
    headers: {
      "content-type": "application/json; charset=utf-8",
      // A report never changes once stored.
      "cache-control": "public, max-age=31536000, immutable",
      "access-control-allow-origin": "*",
    },
  });
});

/** The static page from the Worker's assets; without assets there is no page, only the JSON. */
async function reportPage(c: Context<AppEnv>, id: string): Promise<Response> {
  const assets = c.env.ASSETS;
  if (!assets) throw new GatewayError("not_found", `No verification page is deployed; the report is at /reports/${id}.json.`);
  const origin = new URL(c.req.url).origin;
  const page = await assets.fetch(new Request(`${origin}/report.html`));
  // Assets' default html_handling redirects /report.html to /report: follow it inside the Worker
  // so the browser stays on /reports/<id>, which is where the page reads its id from.
  const location = page.headers.get("location");
  const served = page.status >= 300 && page.status < 400 && location ? await assets.fetch(new Request(new URL(location, origin))) : page;
  // A fetched response's headers are immutable; the middleware still adds x-request-id to this copy.
  return new Response(served.body, served);
}
