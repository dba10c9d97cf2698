// `npm run demo -- --plan auto --approval` as a person runs it, on a test nats-server and without --yes: the demo shows
// the planner's plan and the exact `baton approve` command, waits; the test runs that command (the real CLI, `baton` on
// PATH as after `npm install -g .`), the demo then prints the api agent's question and the `baton answer` command,
// waits; the test answers "120" with it. The feature completes, and its integration branch holds the planned feature
// with the answer in it (the contract's and the backend's title limit). About 65 s on an idle machine (the timeouts allow for a busy one).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { BATON_BIN } from "../helpers/procs.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

let nats: NatsServer;
/** Removed afterwards: the demo's run folder, the worktrees' cache, the folder with `baton` on PATH. */
const scratch: string[] = [];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  nats = await startNatsServer();
  const tmp = mkdtempSync(join(tmpdir(), "baton-demo-plan-"));
  scratch.push(tmp);
  mkdirSync(join(tmp, "bin"));
  symlinkSync(BATON_BIN, join(tmp, "bin", "baton"));
  env = { ...process.env, PATH: `${join(tmp, "bin")}:${process.env.PATH}`, NATS_URL: nats.url, NO_COLOR: "1", XDG_CACHE_HOME: join(tmp, "cache") };
  for (const key of ["BATON_PREFIX", "BATON_CONFIG", "BATON_DEMO_AUTO"]) delete env[key];
});

afterAll(async () => {
  await nats?.dispose();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** The demo as a child: its output so far, a wait for a line of it, and its exit. */
function startDemo(args: string[]) {
  const child = spawn("npm", ["run", "demo", "--", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => void (output += stripAnsi(chunk.toString())));
  child.stderr.on("data", (chunk: Buffer) => void (output += stripAnsi(chunk.toString())));
  const killer = setTimeout(() => child.kill("SIGINT"), 230_000);
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => {
    clearTimeout(killer);
    resolve(code);
  }));
  /** Resolves with the first match of `pattern` in the output; rejects when the demo exits or 60 s pass first. */
  const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const match = pattern.exec(output);
      if (match) return match;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in the demo's output:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  return { output: () => output, waitFor, exited };
}

/** Runs a command line the demo printed, in a shell as a person would paste it (another folder, `baton` on PATH). */
function paste(line: string): Promise<{ code: number | null; output: string }> {
  const run = spawn("sh", ["-c", line], { cwd: tmpdir(), env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  run.stdout.on("data", (chunk: Buffer) => void (output += chunk.toString()));
  run.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()));
  const killer = setTimeout(() => run.kill("SIGKILL"), 30_000);
  return new Promise((resolve) => run.once("close", (code) => {
    clearTimeout(killer);
    resolve({ code, output });
  }));
}

describe("npm run demo -- --plan auto --approval", () => {
  it("waits for the printed `baton approve`, then for the printed `baton answer`, and completes with the answer", async () => {
    const demo = startDemo(["--plan", "auto", "--approval"]);

    // the plan as the ordered list, then the exact command; nothing runs before a person approves
    const [, approve, featureId] = await demo.waitFor(/^ +(NATS_URL=\S+ baton approve (demo-\w+) --config \S+)$/m);
    expect(demo.output()).toMatch(/^ +1\. +schema +database +database +- /m);
    expect(demo.output()).toMatch(/^ +6\. +review +reviewer +- +tests\(5\) /m);
    expect(demo.output()).toMatch(new RegExp(`^ +NATS_URL=\\S+ baton reject ${featureId} --reason "…" --config \\S+$`, "m"));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(demo.output()).not.toMatch(/dispatched schema/);
    const approved = await paste(approve!);
    expect(approved.code, approved.output).toBe(0);
    expect(approved.output).toContain(`${featureId}: plan approved by`);

    // the api agent's question, and the command that answers it (the default filled in): answered with another option
    const [, answerHead, , answerTail] = await demo.waitFor(/^ +(NATS_URL=\S+ baton answer demo-\w+ q1) ("200") (--config \S+)$/m);
    expect(demo.output()).toMatch(/a question from task spec \(api\), q1/);
    expect(demo.output()).toMatch(/options: 1\) 200 {2}2\) 120 {2}3\) 80 {3}default: 200/);
    const answered = await paste(`${answerHead} "120" ${answerTail}`);
    expect(answered.code, answered.output).toBe(0);
    expect(answered.output).toContain(`${featureId} q1: answered "120"`);

    const code = await demo.exited;
    const output = demo.output();
    expect(code, output.slice(-4000)).toBe(0);
    const [, workspace] = new RegExp(`feature ${featureId} completed; workspace (\\S+)`).exec(output) ?? [];
    expect(workspace, output.slice(-2000)).toBeDefined();
    scratch.push(dirname(workspace!));
    expect(output.indexOf("plan approved by")).toBeLessThan(output.indexOf("dispatched schema"));

    // the planned feature on its integration branch, with the answer in the contract and the backend
    const branch = `baton/${featureId}`;
    const git = (...args: string[]) => spawnSync("git", args, { cwd: workspace!, encoding: "utf8" });
    const read = (path: string) => git("show", `${branch}:${path}`).stdout;
    for (const path of ["migrations/001_create_todos.sql", "docs/database/README.md", "docs/openapi.yaml", "src/todos.js", "web/todos.js", "web/index.html", "test/todos.test.js", "docs/review.md"]) {
      expect(git("cat-file", "-e", `${branch}:${path}`).status, path).toBe(0);
    }
    expect(read("docs/openapi.yaml")).toMatch(/NewTodo:[\s\S]*maxLength: 120/);
    expect(read("src/todos.js")).toContain("const TITLE_MAX = 120;");
    expect(read("docs/review.md")).toContain("Verdict: **approved**");
    // one checkpoint per planned task (the planner's own run is not one), and the user's checkout untouched
    expect(git("rev-list", "--first-parent", "--count", `HEAD..${branch}`).stdout.trim()).toBe("6");
    expect(git("status", "--porcelain").stdout).toBe("");
  }, 240_000);
});
