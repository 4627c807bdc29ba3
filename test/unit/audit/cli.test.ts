/** The keyforge-verify CLI logic with in-memory I/O: argument handling, output and exit codes. */
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseCliArgs, runVerifyCli } from "../../../src/audit/cli";
import { buildLog, editEntry, reportFor, signedCheckpointAt, testSigner } from "./audit-fixtures";

let files: Map<string, string>;
let key: string;

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    readText: async (path: string) => {
      const text = files.get(path);
      if (text === undefined) throw new Error("ENOENT");
      return text;
    },
    out: (line: string) => out.push(line),
    err: (line: string) => err.push(line),
  };
  const code = await runVerifyCli(argv, io);
  return { code, out, err };
}

beforeAll(async () => {
  const log = await buildLog("keyCli", 6);
  const report = await reportFor(log, { from: 2, to: 5, previousSize: 3 });
  const tampered = structuredClone(report);
  editEntry(tampered, 0, (e) => void (e.prompt_tokens += 1));
  key = (await testSigner()).verifierKey;
  files = new Map([
    ["report.json", JSON.stringify(report)],
    ["tampered.json", JSON.stringify(tampered)],
    ["broken.json", JSON.stringify(report).slice(0, -2)],
    ["kept.txt", await signedCheckpointAt(log, 3)],
    ["other.txt", await signedCheckpointAt(log, 4)],
  ]);
});

describe("keyforge-verify", () => {
  it("exits 0 and prints every check for a valid report", async () => {
    const { code, out } = await run("report.json", "--key", key);
    expect(code).toBe(EXIT_OK);
    expect(out.at(-1)).toMatch(/^VERIFIED: all \d+ checks passed$/);
    expect(out.slice(0, -1).every((line) => line.startsWith("ok  "))).toBe(true);
    expect((await run("report.json", `--key=${key}`, "--previous", "kept.txt")).code).toBe(EXIT_OK);
  });

  it("exits 1 for a tampered, unparseable or unpinned report", async () => {
    const tampered = await run("tampered.json", "--key", key);
    expect(tampered.code).toBe(EXIT_FAILED);
    expect(tampered.out).toContainEqual(expect.stringMatching(/^FAIL {2}entry seq 2: /));
    expect(tampered.out.at(-1)).toMatch(/^FAILED: /);
    expect((await run("broken.json", "--key", key)).code).toBe(EXIT_FAILED);
    expect((await run("report.json", "--key", key, "--previous", "other.txt")).code).toBe(EXIT_FAILED);
  });

  it("trusts the embedded key only with --trust-embedded, and says what that means", async () => {
    const { code, err } = await run("report.json", "--trust-embedded");
    expect(code).toBe(EXIT_OK);
    expect(err.join("\n")).toMatch(/integrity, not origin/);
  });

  it.each([
    [[]],
    [["report.json"]],
    [["report.json", "other.json", "--key", "k"]],
    [["report.json", "--key"]],
    [["report.json", "--bogus", "--trust-embedded"]],
    [["report.json", "--key", "not-a-key"]],
    [["missing.json", "--trust-embedded"]],
    [["report.json", "--trust-embedded", "--previous", "missing.txt"]],
  ])("exits 2 on usage errors: %j", async (argv) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(EXIT_USAGE);
    expect(err[0]).toMatch(/^keyforge-verify: /);
  });

  it("prints usage for --help", async () => {
    const { code, out } = await run("--help");
    expect(code).toBe(EXIT_OK);
    expect(out[0]).toMatch(/^usage: keyforge-verify/);
  });

  it("parses repeated keys", () => {
    expect(parseCliArgs(["r.json", "--key", "a", "--key=b"])).toEqual({ reportPath: "r.json", keys: ["a", "b"], trustEmbedded: false, allowV1: false });
  });
});
