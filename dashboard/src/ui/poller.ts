/** Runs `task` every `ms` while the tab is visible; returns a stop function. */
export function every(ms: number, task: () => void): () => void {
  const timer = window.setInterval(() => {
    if (document.visibilityState === "visible") task();
  }, ms);
  return () => window.clearInterval(timer);
}
