import { canonicalJson } from "../src/audit/canonical-json";
import { deriveChainKey, genesisHash, nextChainHash } from "../src/audit/chain";
import { describeError } from "../src/audit/errors";
import { leafHash } from "../src/audit/merkle";
import { nodesForAppend, type MerkleNode, type MerkleNodeStore } from "../src/audit/merkle-store";
import type { Endpoint } from "../src/keys/types";
import { utf8 } from "../src/lib/bytes";
import { logError } from "../src/lib/log";
import type { AuditRow, AuditStore, DenialWindow } from "./key-guard-audit-store";

/**
 * The KeyGuard's audit log: append, seal, read.
 *
 * Why two steps. The ledger charge and its audit entry must be one synchronous SQLite write
 * (that is what makes "no request un-counted" and "every counted request audited" the same
 * fact), but the chain HMAC and the Merkle hashes need Web Crypto, which is async. So:
 *
 *  1. `append` (inside admit / settle / alarm, no await): writes the entry's RFC 8785 text with
 *     `hash = NULL`, in the same synchronous step as the charge.
 *  2. The sealer (`seal`), started after the caller returned: one run at a time per instance,
 *     it takes the rows after the sealed prefix in seq order, in batches, and for each computes
 *     h_seq = HMAC(K, frame(h_{seq-1}, entry)) and the Merkle leaf and completed nodes (held in
 *     memory until the batch is done), then writes the batch's hashes, nodes and new tree size with
 *     no await between them (one commit per batch, not per entry).
 *
 * The hash is a pure function of the stored bytes and the previous hash, so it does not matter
 * when it is computed: an instance evicted between 1 and 2 leaves unsealed rows, and the next
 * instance seals them on construction, on the next append, or in the alarm. Every read (list,
 * verify, checkpoint, report) first awaits `sealed()`. Without AUDIT_HMAC_SECRET the sealer
 * refuses to run (logged) rather than write hashes nobody can verify; entries are still kept.
 *
 * Denials are coalesced (`deny`): an agent at its cap could otherwise append an entry per request
 * forever. The first denial of a kind opens a one-minute window; each one in it adds 1 to the
 * window's stored count, in the same synchronous step as the decision. When the minute is over
 * (`flushDenials`: the alarm, the next denial of that kind, or any read) the window becomes one
 * entry with `count`, appended and removed in one step. Stored, not held in memory: an instance
 * evicted mid-minute leaves the window and its alarm to the next one.
 */

/** Denials of one kind are coalesced into at most one entry per this long. */
export const DENIAL_WINDOW_MS = 60_000;

/** The audit configuration the KeyGuard reads (a function, so tests can rotate keys). */
export type AuditEnv = Pick<Cloudflare.Env, "DB" | "AUDIT_HMAC_SECRET" | "AUDIT_SIGNING_KEYS" | "AUDIT_ORIGIN_PREFIX" | "AUDIT_CHECKPOINT_MS">;

export interface AuditFields {
  keyId: string;
  ts: number;
  requestId: string;
  model: string;
  provider: string;
  /** The agent API (absent only in entries written before the field existed). */
  endpoint?: Endpoint;
  stream: boolean;
  status: number | "expired";
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
  latencyMs: number;
  /** Coalesced denials: the requests this entry stands for. */
  count?: number;
  /** Attribution (src/proxy/attribution.ts): the end-user id and the request's tags, when sent. */
  user?: string;
  tags?: string[];
  /** The output bound the gateway added to the request (x-keyforge-max-tokens); absent when it added none. */
  injectedMaxTokens?: number | null;
}

export interface AuditHead {
  seq: number;
  hash: string | null;
}

/** Why an audit RPC could not answer; the Worker maps it to a GatewayError. */
export interface AuditFailure {
  ok: false;
  code: "not_found" | "unavailable" | "invalid_range" | "integrity";
  message: string;
}

export type AuditPageResult = { ok: true; rows: AuditRow[]; head: AuditHead; hasMore: boolean } | AuditFailure;

export const auditFailure = (code: AuditFailure["code"], message: string): AuditFailure => ({ ok: false, code, message });

/** Thrown by `sealed()` when the log cannot be sealed by configuration. */
export class AuditUnavailable extends Error {}

const SEAL_BATCH = 64;
/**
 * The sealer starts this long after an append: the entries of the next few milliseconds share its
 * commit, and locally (where the Worker and its objects share one thread) it runs while the agent
 * waits on its provider rather than between the admit and the upstream call. Readers never wait for
 * it: they seal first (`sealed()`).
 */
const SEAL_DELAY_MS = 5;
const LONE_SURROGATE = /\p{Cs}/gu;

// The entry schema's limits (canonical-json.ts): an entry that broke them could never verify.
const text = (value: string, max: number) => value.slice(0, max).replace(LONE_SURROGATE, "\uFFFD");
const TAG = /^[A-Za-z0-9._:/-]{1,64}$/;
const count = (n: number) => (Number.isFinite(n) && n > 0 ? Math.min(Math.round(n), Number.MAX_SAFE_INTEGER) : 0);

/** The canonical text of an entry; inputs are clamped so this never throws on the hot path. */
export function entryText(seq: number, f: AuditFields): string {
  return canonicalJson({
    v: 1,
    key_id: text(f.keyId, 128),
    seq,
    ts: count(f.ts),
    request_id: text(f.requestId, 256),
    model: text(f.model, 256),
    provider: text(f.provider, 128),
    status: f.status === "expired" ? "expired" : Math.min(999, count(f.status)),
    prompt_tokens: count(f.promptTokens),
    completion_tokens: count(f.completionTokens),
    cost_micros: count(f.costMicros),
    latency_ms: count(f.latencyMs),
    stream: f.stream,
    // Only when known, so entries without it (written before the field existed) keep their bytes.
    ...(f.endpoint === undefined ? {} : { endpoint: f.endpoint }),
    ...(f.count === undefined ? {} : { count: Math.max(1, count(f.count)) }),
    // Attribution, likewise only when sent; bounded as the schema requires (the Worker already bounds them).
    ...(f.user ? { user: text(f.user, 128) } : {}),
    ...(f.tags?.length ? { tags: f.tags.slice(0, 8).map((t) => (TAG.test(t) ? t : "invalid")) } : {}),
    // The output bound the gateway added (issue 18), only when it added one.
    ...(f.injectedMaxTokens == null ? {} : { injected_max_tokens: Math.max(1, count(f.injectedMaxTokens)) }),
  });
}

/** An admin action (adminEntrySchema): control-plane log, or a key's policy history. */
export interface AdminFields {
  /** The log's id: "control-plane", or the key's id. */
  logId: string;
  ts: number;
  requestId: string;
  actor: string;
  action: string;
  target: string;
  /** Policy fields only, never a secret. */
  change: Record<string, { before: unknown; after: unknown }> | null;
  refSeq?: number;
}

const ACTION = /^[a-z][a-z0-9_.-]{0,63}$/;

/** Any value made JSON-safe for JCS (fractions and huge numbers as strings): an entry never fails to encode. */
function jsonSafe(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return text(value, 4096);
  if (typeof value === "number") return Number.isSafeInteger(value) && !Object.is(value, -0) ? value : String(value);
  if (depth > 8) return "[nested]";
  if (Array.isArray(value)) return value.slice(0, 256).map((v) => jsonSafe(v, depth + 1));
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .slice(0, 256)
        .map(([k, v]) => [text(k, 128), jsonSafe(v, depth + 1)]),
    );
  }
  return String(value);
}

/** The canonical text of an admin entry; like entryText it never throws. */
export function adminEntryText(seq: number, f: AdminFields): string {
  const change =
    f.change === null
      ? null
      : Object.fromEntries(Object.entries(f.change).map(([field, c]) => [text(field, 64), { before: jsonSafe(c.before), after: jsonSafe(c.after) }]));
  return canonicalJson({
    v: 1,
    kind: "admin",
    key_id: text(f.logId, 128),
    seq,
    ts: count(f.ts),
    request_id: text(f.requestId, 256),
    actor: text(f.actor, 128) || "unknown",
    action: ACTION.test(f.action) ? f.action : "unknown",
    target: text(f.target, 256),
    change,
    ...(f.refSeq === undefined ? {} : { ref_seq: Math.max(1, count(f.refSeq)) }),
  });
}

/** Merkle nodes computed for a batch, readable before they are committed to the store. */
class PendingNodes implements MerkleNodeStore {
  readonly written: Array<MerkleNode & { hash: Uint8Array }> = [];
  private readonly byPosition = new Map<string, Uint8Array>();

  constructor(private readonly base: MerkleNodeStore) {}

  get(level: number, index: number): Uint8Array | undefined {
    return this.byPosition.get(`${level}:${index}`) ?? this.base.get(level, index);
  }

  put(level: number, index: number, hash: Uint8Array): void {
    this.byPosition.set(`${level}:${index}`, hash);
    this.written.push({ level, index, hash });
  }
}

interface ChainKeys {
  keyId: string;
  secret: string;
  chainKey: Promise<CryptoKey>;
  genesis: Promise<string>;
}

export class AuditLog {
  /** Tests hold the sealer (through runInDurableObject) to leave rows between append and seal. */
  paused = false;
  private nextSeq = 1;
  private run: Promise<void> | null = null;
  private queued = false;
  private queuedTimer: ReturnType<typeof setTimeout> | undefined;
  private keys: ChainKeys | null = null;
  private configProblem: string | null = null;
  /** Open denial windows by denial code, mirroring audit_denials. */
  private readonly denials = new Map<string, DenialWindow>();

  constructor(
    private readonly store: AuditStore,
    private readonly config: () => AuditEnv,
    private readonly keyId: () => string | null,
  ) {}

  /** After a restart: continue numbering, and seal what the previous instance left. */
  load(): void {
    this.nextSeq = this.store.nextSeq();
    this.store.migrateDenials();
    for (const window of this.store.denialWindows()) this.denials.set(window.code, window);
    if (this.store.hasUnsealed()) this.scheduleSeal();
  }

  /**
   * Synchronous, in the denial's own step: counts it into its kind's open window (the window is
   * stored). Call `flushDenials(ts)` first so an ended window is not extended. Returns when this
   * window must be flushed.
   */
  deny(code: string, fields: AuditFields): number {
    const open = this.denials.get(code);
    if (open) {
      open.count += 1;
      this.store.countDenial(code);
      return open.windowStart + DENIAL_WINDOW_MS;
    }
    const window: DenialWindow = { code, windowStart: fields.ts, count: 1, first: JSON.stringify(fields) };
    this.denials.set(code, window);
    this.store.openDenialWindow(window);
    return window.windowStart + DENIAL_WINDOW_MS;
  }

  /** Appends one entry (with its exact count) per denial window over by `now`; returns how many. */
  flushDenials(now: number): number {
    let appended = 0;
    for (const window of [...this.denials.values()].sort((a, b) => a.windowStart - b.windowStart)) {
      if (now < window.windowStart + DENIAL_WINDOW_MS) continue;
      // No await between the append and the delete: the count moves into the log exactly once.
      this.append({ ...(JSON.parse(window.first) as AuditFields), count: window.count });
      this.store.closeDenialWindow(window.code);
      this.denials.delete(window.code);
      appended += 1;
    }
    return appended;
  }

  /** When the earliest open denial window must be flushed; null when none is open. */
  get nextDenialFlush(): number | null {
    let next: number | null = null;
    for (const window of this.denials.values()) next = Math.min(next ?? Infinity, window.windowStart + DENIAL_WINDOW_MS);
    return next;
  }

  /** Synchronous: called in the same step as the charge it records. */
  append(fields: AuditFields): void {
    this.appendText((seq) => entryText(seq, fields));
  }

  /** Synchronous, like `append`: an admin action; returns its seq. */
  appendAdmin(fields: AdminFields): number {
    return this.appendText((seq) => adminEntryText(seq, fields));
  }

  private appendText(text: (seq: number) => string): number {
    const seq = this.nextSeq++;
    this.store.append(seq, text(seq));
    this.scheduleSeal();
    return seq;
  }

  /** Starts the sealer SEAL_DELAY_MS after the current caller has returned; several appends share one run. */
  private scheduleSeal(): void {
    if (this.queued) return;
    this.queued = true;
    this.queuedTimer = setTimeout(() => {
      this.queued = false;
      void this.seal();
    }, SEAL_DELAY_MS);
  }

  /**
   * Seals every unsealed row. One run at a time: a caller during a run shares it. Never rejects.
   * A run started here covers every row appended so far, so the one `append` scheduled would find
   * nothing: it is cancelled (one wake-up less per batch of settles). A run already going may have
   * passed its last check, so then the scheduled one stays.
   */
  seal(): Promise<void> {
    if (this.run === null && this.queued) {
      clearTimeout(this.queuedTimer);
      this.queued = false;
    }
    this.run ??= this.sealPending()
      .catch((error: unknown) => logError("audit sealer stopped", { key_id: this.keyId(), error: describeError(error) }))
      .finally(() => {
        this.run = null;
      });
    return this.run;
  }

  /**
   * For readers: resolves once every row appended before the call is sealed, or sealing cannot
   * progress (held by a test, or a broken row, logged). Rows appended meanwhile are not waited
   * for, so a read under sustained traffic still finishes.
   */
  async sealed(): Promise<void> {
    if ((await this.chainKeys()) === null) throw new AuditUnavailable(this.configProblem ?? "The audit log is not configured.");
    const target = this.nextSeq - 1;
    for (let size = this.store.treeSize(); size < target;) {
      await this.seal();
      const after = this.store.treeSize();
      if (after === size) return;
      size = after;
    }
  }

  async page(after: number, limit: number): Promise<AuditPageResult> {
    await this.sealed();
    const rows = this.store.page(after, limit + 1);
    return { ok: true, rows: rows.slice(0, limit), head: await this.head(), hasMore: rows.length > limit };
  }

  /** Seqs of the first and last entry stamped in [fromTs, toTs), or null (see AuditStore.seqRangeByTime). */
  seqRangeByTime(fromTs: number, toTs: number): { first: number; last: number } | null {
    return this.store.seqRangeByTime(fromTs, toTs);
  }

  /** The last stored row, or seq 0 with h_0 for an empty log. */
  async head(): Promise<AuditHead> {
    const last = this.store.lastRow();
    if (last) return { seq: last.seq, hash: last.hash };
    const keys = await this.chainKeys();
    return { seq: 0, hash: keys ? await keys.genesis : null };
  }

  private async sealPending(): Promise<void> {
    if (this.paused) return;
    const keys = await this.chainKeys();
    if (keys === null) return;
    // Every appended row sealed (both sides in memory): no query.
    while (this.store.treeSize() < this.nextSeq - 1) {
      if (this.paused) return;
      const batch = this.store.unsealed(SEAL_BATCH);
      if (batch.length === 0) return;
      await this.sealBatch(keys, batch);
      if (this.store.treeSize() >= this.nextSeq - 1) return;
      // workerd's Web Crypto completes synchronously, so a batch never yields on its own: let
      // waiting admits and settles in between batches rather than behind a whole backlog.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  private async sealBatch(keys: ChainKeys, batch: ReadonlyArray<{ seq: number; entry: string }>): Promise<void> {
    let size = this.store.treeSize();
    let previous = size === 0 ? await keys.genesis : this.store.sealedHash();
    if (previous === null) throw new Error(`sealed audit entry ${size} has no hash; sealing stops`);
    const chainKey = await keys.chainKey;
    const nodes = new PendingNodes(this.store);
    const sealed: Array<{ seq: number; hash: string }> = [];
    for (const row of batch) {
      if (row.seq !== size + 1) throw new Error(`audit entry ${size + 1} is missing (next stored is ${row.seq}); sealing stops`);
      const bytes = utf8(row.entry);
      previous = await nextChainHash(chainKey, previous, bytes);
      for (const node of await nodesForAppend(nodes, size, await leafHash(bytes))) nodes.put(node.level, node.index, node.hash);
      sealed.push({ seq: row.seq, hash: previous });
      size += 1;
    }
    // No await from here: the batch's hashes, Merkle nodes and new tree size commit together.
    this.store.commitSeals(sealed, nodes.written);
  }

  /** K_key and h_0, derived once per instance (and again only if the key id or secret changes). */
  private async chainKeys(): Promise<ChainKeys | null> {
    const keyId = this.keyId();
    const secret = this.config().AUDIT_HMAC_SECRET;
    if (keyId === null) return null;
    if (!secret) return this.refuse("AUDIT_HMAC_SECRET is not set: audit entries are kept but not sealed.");
    if (this.keys?.keyId !== keyId || this.keys.secret !== secret) {
      const chainKey = deriveChainKey(secret, keyId);
      this.keys = { keyId, secret, chainKey, genesis: chainKey.then((k) => genesisHash(k, keyId)) };
    }
    try {
      await this.keys.genesis;
      this.configProblem = null;
      return this.keys;
    } catch (error) {
      this.keys = null;
      return this.refuse(`AUDIT_HMAC_SECRET is unusable (${describeError(error)}): audit entries are kept but not sealed.`);
    }
  }

  /** Logs a configuration problem once per instance and reason. */
  private refuse(problem: string): null {
    if (this.configProblem !== problem) logError("audit sealing refused", { key_id: this.keyId(), problem });
    this.configProblem = problem;
    return null;
  }
}
