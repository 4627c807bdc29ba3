// Reads test-results/progress.log (written by test/support/progress-reporter.ts) after CI's time
// limit stopped the test run, and names what was running.
import { readFileSync } from "node:fs";

let lines = [];
try {
  lines = readFileSync("test-results/progress.log", "utf8").trim().split("\n");
} catch {
  console.error("No test-results/progress.log: the test runner never started a file.");
  process.exit(0);
}
const lastRun = lines.findLastIndex((line) => line.split(" ")[1] === "run");
const events = lines.slice(Math.max(lastRun, 0)).map((line) => {
  const [at, event, file] = line.split(" ");
  return { at, event, file };
});
const running = new Map();
const ended = [];
for (const e of events) {
  if (e.event === "start") running.set(e.file, e.at);
  if (e.event === "end") {
    running.delete(e.file);
    ended.push(e);
  }
}
if (running.size > 0) {
  console.error("Test files still running when the time limit hit:");
  for (const [file, at] of running) console.error(`  ${file} (started ${at})`);
} else if (events.at(-1)?.event !== "done") {
  console.error("Every started file had finished: the hang is in a teardown (test runner or runtime shutdown) after:");
  for (const e of ended.slice(-3)) console.error(`  ${e.file} (ended ${e.at})`);
} else {
  console.error("The last test run finished; the time limit hit in the next step.");
}
