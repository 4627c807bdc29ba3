import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { CONTROL_PLANE_LOG_ID } from "../../durable-objects/control-plane-log";
import type { AdminFields } from "../../durable-objects/key-guard-audit";
import type { AppEnv, Env } from "../env";
import { logError } from "../lib/log";

/**
 * The control-plane log's recording rule, for every admin route present and future: each request
 * that may change state (any method but GET/HEAD/OPTIONS, except the audit reads below) writes
 * exactly one entry to the ControlPlaneLog BEFORE its change is applied.
 *
 *  - A route that knows its change (before → after) puts `recordsOwnEntry` before its handler and
 *    calls `recordChange(c, …)` after validating and reading the current state, right before it
 *    writes. Bad input and unknown ids then leave no entry.
 *  - Any other mutating route (a new one that did nothing about it) gets a generic entry from this
 *    middleware before its handler runs: action from the route, target = the path, change = null.
 *  - A request whose entry was written but that then ended in an error gets a second entry,
 *    `failed` with `ref_seq`: see src/audit/README.md for exactly what that does and does not say.
 */

/** Methods that never change state. */
export const isSafeMethod = (method: string) => method === "GET" || method === "HEAD" || method === "OPTIONS";

/** Audit reads over POST: verifying a chain and issuing a report. Allowed to auditors. */
export function isAuditRead(method: string, path: string): boolean {
  return method === "POST" && /^\/admin\/v1\/(?:keys\/[^/]+\/)?audit\/(?:verify|reports)$/.test(path);
}

/** Verify only reads; a report publishes a document, so it is recorded (not a write auditors are denied). */
const isVerify = (method: string, path: string) => method === "POST" && /\/audit\/verify$/.test(path);

type Change = AdminFields["change"];

export interface ChangeEntry {
  action: string;
  target: string;
  change: Change;
}

export const controlPlaneLog = (env: Env) => env.CONTROL_PLANE_LOG.getByName(CONTROL_PLANE_LOG_ID);

export class ControlPlaneRecorder {
  seq: number | null = null;
  target = "";

  constructor(private readonly c: Context<AppEnv>) {}

  async record(entry: ChangeEntry): Promise<number> {
    if (this.seq !== null) throw new Error(`control-plane entry already recorded for this request (seq ${this.seq})`);
    const actor = this.c.get("actor");
    const { seq } = await controlPlaneLog(this.c.env).record({ ...entry, actor: actor.name, requestId: this.c.get("requestId") });
    this.seq = seq;
    this.target = entry.target;
    return seq;
  }
}

/** Route-level marker: this handler calls `recordChange` itself. */
export const recordsOwnEntry: MiddlewareHandler<AppEnv> = async function recordsOwnEntry(_c, next) {
  await next();
};

/** Writes this request's control-plane entry; call it right before applying the change. */
export async function recordChange(c: Context<AppEnv>, entry: ChangeEntry): Promise<number> {
  const recorder = c.get("controlPlane");
  if (!recorder) throw new Error("recordChange outside a mutating admin request");
  return recorder.record(entry);
}

/** `POST /admin/v1/provider-keys/:id/disable` → `provider-keys.disable.post`. */
function genericAction(method: string, pattern: string): string {
  const parts = pattern
    .replace(/^\/admin\/v1\/?/, "")
    .split("/")
    .filter((p) => p !== "" && !p.startsWith(":") && p !== "*")
    .map((p) => p.toLowerCase().replace(/[^a-z0-9_-]/g, "_"));
  return [...parts, method.toLowerCase()].join(".").slice(0, 64);
}

export function controlPlane(): MiddlewareHandler<AppEnv> {
  return async function controlPlaneMiddleware(c, next) {
    const { method, path } = c.req;
    if (isSafeMethod(method) || isVerify(method, path)) return next();
    const routes = matchedRoutes(c);
    const final = routes.at(-1);
    // No route matched (404) or only middleware: nothing can change.
    if (!final || final.method === "ALL") return next();
    const recorder = new ControlPlaneRecorder(c);
    c.set("controlPlane", recorder);
    const selfRecording = routes.some((r) => r.handler === recordsOwnEntry);
    if (!selfRecording) await recorder.record({ action: genericAction(method, final.path), target: path, change: null });
    await next();
    const failed = c.error !== undefined || c.res.status >= 400;
    if (recorder.seq !== null && failed) {
      await controlPlaneLog(c.env).record({
        action: "failed",
        target: recorder.target,
        change: null,
        refSeq: recorder.seq,
        actor: c.get("actor").name,
        requestId: c.get("requestId"),
      });
    } else if (recorder.seq === null && !failed) {
      // A self-recording route that succeeded without its entry: a bug. Record it late rather than never.
      logError("control-plane entry missing; recorded after the change", { route: `${method} ${final.path}` });
      await recorder.record({ action: genericAction(method, final.path), target: path, change: null });
    }
  };
}
