/** Monthly counters roll over at the UTC month boundary. Pure. */

export function periodOf(now: number): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** Start of the UTC hour containing `now`, for usage rollups. */
export function hourOf(now: number): number {
  return now - (now % 3_600_000);
}
