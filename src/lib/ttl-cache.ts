/**
 * A per-isolate cache with stale-while-revalidate: a fresh value is returned as is; a stale one is
 * returned at once while one refresh runs in the background; only a missing value is awaited.
 * Keeps catalogue reads (D1, Durable Objects) off the warm hot path.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, { value: T; at: number }>();
  private readonly inflight = new Map<string, Promise<T>>();

  constructor(private readonly ttlMs: number) {}

  async get(key: string, load: () => Promise<T>, waitUntil?: (p: Promise<unknown>) => void): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && Date.now() - entry.at < this.ttlMs) return entry.value;
    const refresh = this.refresh(key, load);
    if (entry) {
      waitUntil?.(refresh.catch(() => undefined));
      return entry.value;
    }
    return refresh;
  }

  set(key: string, value: T): void {
    this.entries.set(key, { value, at: Date.now() });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private refresh(key: string, load: () => Promise<T>): Promise<T> {
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = load()
        .then((value) => {
          this.set(key, value);
          return value;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }
}
