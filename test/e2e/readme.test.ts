// The README's "Using it" walk-through, run word for word in a temporary folder outside the repository: `baton` on
// PATH is this checkout's bin, NATS_URL the test's own nats-server, and the line the README runs "in another
// terminal" runs in the background until the rest is done, then gets SIGTERM (what Ctrl-C's drain does) and must exit 0.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { uniquePrefix } from "../helpers/nats-server.ts";
import { useScratch } from "../helpers/scratch.ts";
import { BATON_BIN } from "../helpers/procs.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
/** How the README marks the line that keeps running in its own terminal. */
const OTHER_TERMINAL = /#.*in another terminal/;
const DONE = "__readme_block_done__";

/** The `sh` blocks of the README section `heading` (up to the next `## ` heading), as lists of lines. */
function shellBlocks(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const rest = markdown.slice(start + heading.length + 2);
  const next = rest.search(/^## /m);
  const section = next < 0 ? rest : rest.slice(0, next);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!.split("\n").filter((line) => line.trim() !== ""));
}

/**
 * One bash script for the blocks: every line as written, except that the other-terminal line runs in the background
 * (its trailing comment dropped so the redirection applies) and the script waits until it says it is ready. At the
 * end the script prints DONE and waits for that process, whose exit status becomes the script's.
 */
function script(blocks: string[][], logFile: string): string {
  const lines = ["set -euo pipefail"];
  let background = false;
  for (const line of blocks.flat()) {
    if (!OTHER_TERMINAL.test(line)) {
      lines.push(line);
      continue;
    }
    background = true;
    lines.push(`${line.replace(/\s+#.*$/, "")} > ${JSON.stringify(logFile)} 2>&1 &`, "UP_PID=$!", `echo "up pid $UP_PID"`);
    lines.push(`until grep -q "^baton up: ready" ${JSON.stringify(logFile)}; do kill -0 "$UP_PID" || { cat ${JSON.stringify(logFile)}; exit 97; }; sleep 0.2; done`);
  }
  lines.push(`echo ${DONE}`);
  if (background) lines.push(`wait "$UP_PID"`);
  return `${lines.join("\n")}\n`;
}

const scratch = useScratch("readme");

describe("the README's Using it section", () => {
  it("runs word for word on a project of one's own", async () => {
    const blocks = shellBlocks(README, "## Using it");
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.flat().filter((line) => OTHER_TERMINAL.test(line))).toHaveLength(1);
    expect(blocks.flat().some((line) => /^baton init\b/.test(line))).toBe(true);

    // `baton` on PATH, as after `npm install -g .`; the user's project: a small Node package with a test.
    const binDir = join(scratch.tmp, "bin");
    mkdirSync(binDir);
    symlinkSync(BATON_BIN, join(binDir, "baton"));
    const home = join(scratch.tmp, "home");
    const project = join(home, "my-project");
    mkdirSync(join(project, "test"), { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-project", type: "module", scripts: { test: "node --test" } }));
    writeFileSync(join(project, "test", "one.test.js"), 'import { test } from "node:test";\ntest("one", () => {});\n');
    writeFileSync(join(scratch.tmp, "readme.sh"), script(blocks, join(scratch.tmp, "up.log")));

    // XDG_CACHE_HOME: the feature's git worktrees go under the scratch folder, not this machine's ~/.cache
    const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}`, NATS_URL: scratch.nats.url, BATON_PREFIX: uniquePrefix("readme"), NO_COLOR: "1", XDG_CACHE_HOME: join(scratch.tmp, "cache") };
    const run = spawn("bash", [join(scratch.tmp, "readme.sh")], { cwd: home, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let upPid: number | undefined;
    let stopped = false;
    const exited = new Promise<number | null>((resolve) => run.once("exit", (code) => resolve(code)));
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      upPid ??= Number(/^up pid (\d+)$/m.exec(output)?.[1]) || undefined;
      if (output.includes(DONE) && upPid && !stopped) {
        stopped = true;
        process.kill(upPid, "SIGTERM");
      }
    };
    run.stdout.on("data", onData);
    run.stderr.on("data", onData);
    const code = await Promise.race([exited, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 150_000))]);
    if (code === "timeout" && upPid) process.kill(upPid, "SIGKILL");
    const upLog = readFileSync(join(scratch.tmp, "up.log"), "utf8");
    expect(code, `${output}\n--- baton up:\n${upLog}`).toBe(0);
    expect(output).toMatch(/feature completed/);
    expect(output).toMatch(/example\s+completed/);
    expect(upLog).toMatch(/^stopped$/m);
  }, 180_000);
});
