// CI drift check for worker-configuration.d.ts: regenerates it (`npm run types`) and fails if it
// changed. (`wrangler types --check` ignores --env-file, so it cannot check this project's command.)
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";

const FILE = "worker-configuration.d.ts";
const before = readFileSync(FILE, "utf8");
execSync("npm run -s types", { stdio: ["ignore", "ignore", "inherit"] });
const after = readFileSync(FILE, "utf8");
if (before !== after) {
  console.error(`${FILE} was out of date with wrangler.toml / .dev.vars.example: regenerated it. Review and commit it.`);
  process.exit(1);
}
console.log(`${FILE} is up to date.`);
