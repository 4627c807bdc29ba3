import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";

/**
 * Writes one line per test file start and end to test-results/progress.log, as it happens. When CI's
 * hard time limit stops a hung run, scripts/hung-tests.mjs reads it to name the file that was running
 * (or, when every file had ended, the last ones — their teardown is what hung).
 */
export const PROGRESS_LOG = "test-results/progress.log";

export default class ProgressReporter implements Reporter {
  onInit(): void {
    mkdirSync("test-results", { recursive: true });
    writeFileSync(PROGRESS_LOG, "", { flag: "a" });
    this.write("run", process.argv.slice(2).join(" ") || "(default)");
  }

  onTestModuleStart(module: TestModule): void {
    this.write("start", relative(process.cwd(), module.moduleId));
  }

  onTestModuleEnd(module: TestModule): void {
    this.write("end", `${relative(process.cwd(), module.moduleId)} ${module.state()}`);
  }

  onTestRunEnd(): void {
    this.write("done", "");
  }

  private write(event: string, detail: string): void {
    appendFileSync(PROGRESS_LOG, `${new Date().toISOString()} ${event} ${detail}\n`);
  }
}
