// Issue 11 item 7 against a real stack (nats-server, `baton coordinator`, `baton worker` processes): a task's workspace
// must lie under the worker's roots, symlinks resolved, or the feature is rejected before any agent runs; and the operator's
// secrets never appear in a feature's history, in the results store, or in the worker's logs, wherever an agent put them.
import { execFileSync } from "node:child_process";
import { gitRepo } from "../helpers/git-repo.ts";
import { existsSync, realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { featureHistory } from "../../shared/client/index.ts";
import { openObjectStore } from "../../shared/nats.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { submitAndFollow } from "../helpers/follow.ts";
import { useStack } from "../helpers/stack.ts";

const API_KEY = "sk-ant-api03-PLANTED-7f3a9c2e1b";
const DB_PASSWORD = 'pa"ss\\word-42';

/**
 * An agent that leaks everything it can: the secrets (its environment) on stdout and stderr, in its summary, in a
 * handoff too large to travel inline, and — on instructions "fail" — in the stderr tail of its error. It also drops
 * a `ran` marker in its workspace and prints the task it was given (a dependent task shows the handoffs it got).
 */
const LEAKY = `
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const task = readFileSync(0, "utf8");
const { ANTHROPIC_API_KEY: key, DB_PASSWORD: password } = process.env;
writeFileSync(join(process.env.BATON_WORKSPACE, "ran"), "yes");
console.log("task: " + task);
console.log("using key " + key + " and password " + password);
console.error("debug: key=" + key);
const handoff = { key, password, notes: Array.from({ length: 200 }, (_, index) => index + ": " + key).join("\\n") };
writeFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "done with " + key + " / " + password, handoff }));
if (JSON.parse(task).instructions === "fail") {
  console.error("fatal: the API rejected key " + key);
  process.exit(3);
}
`;

const stack = useStack({
  tag: "safety",
  config: [
    "workspace: ./roots/default",
    "workspaceRoots: [./roots]",
    "roles:",
    '  backend: { exec: ["node", "./leaky.mjs"], env: { DB_PASSWORD: ' + JSON.stringify(DB_PASSWORD) + " } }",
    '  docs: { exec: ["node", "./leaky.mjs"] }',
    "",
  ].join("\n"),
  files: { "leaky.mjs": LEAKY },
  dirs: ["roots", "outside"],
  workers: [["backend", "backend-1"], ["docs", "docs-1"], ["integrator", "integrator-1"]],
  env: () => ({ ANTHROPIC_API_KEY: API_KEY, BATON_LOG_LEVEL: "debug" }),
});

const run = (request: Record<string, unknown>) => submitAndFollow(stack.nc, stack.n, request, { timeoutMs: 60_000 });

async function history(featureId: string): Promise<StatusEvent[]> {
  const events: StatusEvent[] = [];
  for await (const event of featureHistory(stack.nc, stack.n, featureId, { follow: false })) events.push(event);
  return events;
}

/** Every object in the results store, as text. */
async function storedResults(): Promise<string[]> {
  const store = await openObjectStore(stack.nc, stack.n.buckets.results);
  const texts: string[] = [];
  for (const info of await store.list()) texts.push(new TextDecoder().decode((await store.getBlob(info.name))!));
  return texts;
}

const failure = (events: StatusEvent[]) => events.find((event) => event.kind === "task.failed");

describe("integration: workspaces are confined to the worker's roots", () => {
  it("runs a task whose workspace is under a root", async () => {
    const inside = gitRepo(join(stack.dir, "roots", "inside"), { "README.md": "inside\n" });
    const { view } = await run({ id: "ws-in", title: "inside", workspace: inside, tasks: [{ id: "a", role: "backend", title: "A" }] });
    expect(view.state).toBe("completed");
    // the work is on the feature's branch (the checkout is never edited)
    expect(execFileSync("git", ["ls-tree", "--name-only", "baton/ws-in"], { cwd: inside, encoding: "utf8" })).toContain("ran");
    expect(existsSync(join(inside, "ran"))).toBe(false);
  });

  it("rejects a feature whose workspace is outside every root, or escapes one through a symlink, before any agent runs", async () => {
    const outside = gitRepo(join(stack.dir, "outside", "repo"), { "README.md": "outside\n" });
    const plain = await run({ id: "ws-out", title: "outside", workspace: outside, tasks: [{ id: "a", role: "backend", title: "A" }] });
    expect(plain.view.state).toBe("rejected");
    expect(plain.view.errors?.[0]).toMatchObject({ path: "workspace", message: expect.stringContaining(`workspace "${outside}" is outside this worker's workspace roots: ${join(stack.dir, "roots")}`) });

    const link = join(stack.dir, "roots", "escape");
    symlinkSync(outside, link);
    const linked = await run({ id: "ws-link", title: "symlink", workspace: link, tasks: [{ id: "a", role: "backend", title: "A" }] });
    expect(linked.view.state).toBe("rejected");
    expect(linked.view.errors?.[0]?.message).toContain(`(resolved to "${realpathSync(outside)}")`);
    expect(existsSync(join(outside, "ran"))).toBe(false); // the agent never ran there
    expect(plain.events.concat(linked.events).some((event) => event.kind === "task.dispatched")).toBe(false);
  });
});

describe("integration: secrets never leave the worker", () => {
  it("an agent printing the API key and a role's password, in output, summary, handoff and error: none of it is published or logged", async () => {
    const ok = await run({
      id: "leak-ok", title: "leaks", tasks: [{ id: "a", role: "backend", title: "A" }, { id: "b", role: "docs", title: "B", dependsOn: ["a"] }],
    });
    expect(ok.view.state).toBe("completed");
    const failed = await run({ id: "leak-fail", title: "leaks", tasks: [{ id: "c", role: "backend", title: "C", instructions: "fail" }] });
    expect(failed.view.state).toBe("failed");

    const events = [...(await history("leak-ok")), ...(await history("leak-fail"))];
    const published = JSON.stringify(events);
    const stored = await storedResults();
    const logs = stack.procs.slice(1).map((proc) => proc.output()).join("\n");
    // The leaks happened and arrived redacted: in logs, the summary, the error's stderr tail, a stored handoff, the next task's input.
    expect(published).toContain("using key [redacted:ANTHROPIC_API_KEY] and password [redacted:DB_PASSWORD]");
    expect(published).toContain("done with [redacted:ANTHROPIC_API_KEY] / [redacted:DB_PASSWORD]");
    expect(failure(events)?.error?.message).toContain("fatal: the API rejected key [redacted:ANTHROPIC_API_KEY]");
    expect(stored.some((text) => text.includes("199: [redacted:ANTHROPIC_API_KEY]"))).toBe(true);
    expect(logs).toContain("[redacted:ANTHROPIC_API_KEY]");
    expect(logs).toMatch(/"redacting":\[[^\]]*"ANTHROPIC_API_KEY"[^\]]*"DB_PASSWORD"/);
    for (const text of [published, ...stored, logs]) {
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain("PLANTED-7f3a");
      expect(text).not.toContain("pa\"ss");
      expect(text).not.toContain('pa\\"ss');
    }
  });
});
