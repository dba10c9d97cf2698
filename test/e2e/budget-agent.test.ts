// A budget stops a real agent (docs/budgets.md): `baton coordinator` and a backend `baton worker` whose role runs the
// real `claude -p` against the scripted model server in this process. The script reports rising token use, turn by
// turn; the coordinator stops the run at the feature's hard limit (the worker kills the CLI's process group, keeping
// its partial usage) and pauses the feature. The coordinator is then SIGKILLed and restarted; `baton resume` is refused
// until `baton budget` raises the limit; then the task runs again and the feature completes.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import { encode } from "../../shared/codec.ts";
import { featureHistory, getFeature } from "../../shared/client/index.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { names, type Names } from "../../shared/subjects.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";
import { baton, runBaton, type Proc } from "../helpers/procs.ts";
import { agentHome } from "../helpers/agent-env.ts";

/** Each turn: the model reports 2000 input + 100 output tokens and runs a one-second command. */
const burn = (index: number) => ({ text: `Step ${index}.`, tools: [{ name: "Bash", input: { command: "node -e \"setTimeout(() => {}, 1000)\"", description: `step ${index}` } }], usage: { input: 2000, output: 100 }, delayMs: 0, stall: false });
const SCRIPTS = [{
  match: "Refactor the parser",
  turns: [
    burn(1), burn(2), burn(3), burn(4), burn(5), burn(6),
    { text: "Writing the result.", tools: [{ name: "Write", input: { file_path: "done.txt", content: "refactored\n" } }], usage: { input: 2000, output: 100 }, delayMs: 0, stall: false },
    { text: "Refactored the parser.", tools: [], usage: { input: 2000, output: 100 }, delayMs: 0, stall: false },
  ],
  then: "Done.",
}];

let server: NatsServer;
let model: ModelServer;
let dir: string;
let cfg: string;
let n: Names;
let nc: NatsConnection;
let processEnv: Record<string, string>;
const procs: Proc[] = [];

/** The files on the feature's integration branch. */
const onBranch = (ws: string, featureId: string): string =>
  execFileSync("git", ["ls-tree", "-r", "--name-only", `baton/${featureId}`], { cwd: ws, encoding: "utf8" });

beforeAll(async () => {
  server = await startNatsServer();
  model = new ModelServer({ scripts: SCRIPTS, dialects: ALL_DIALECTS });
  const url = await model.start();
  dir = mkdtempSync(join(tmpdir(), "baton-budget-agent-"));
  const env = { ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: "test-key", DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...agentHome() };
  cfg = join(dir, "baton.yaml");
  writeFileSync(cfg, JSON.stringify({ workspaceRoots: ["./workspaces"], roles: { backend: { agent: "claude-code", timeoutSeconds: 180, stallSeconds: 60, env } } }));
  n = names(uniquePrefix("budget"));
  processEnv = { NATS_URL: server.url, BATON_PREFIX: n.prefix, XDG_CACHE_HOME: join(dir, "cache") };
  procs.push(baton(["coordinator", "--config", cfg], processEnv, { cwd: dir }));
  procs.push(baton(["worker", "--role", "backend", "--id", "backend-1", "--config", cfg], processEnv, { cwd: dir }));
  procs.push(baton(["worker", "--role", "integrator", "--id", "integrator-1", "--config", cfg], processEnv, { cwd: dir }));
  await procs[0]!.waitFor(/coordinator ready/, 30_000);
  await Promise.all(procs.slice(1).map((proc) => proc.waitFor(/worker ready/, 30_000)));
  nc = await connect({ servers: server.url });
}, 90_000);

afterAll(async () => {
  await nc?.close();
  await Promise.all(procs.map((proc) => proc.kill("SIGTERM")));
  await model?.close();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The feature's events as they arrive, and a wait for the first one matching. */
function follow(featureId: string) {
  const events: StatusEvent[] = [];
  const stop = new AbortController();
  void (async () => {
    for await (const event of featureHistory(nc, n, featureId, { follow: true, signal: stop.signal })) events.push(event);
  })().catch(() => {});
  return {
    events,
    stop: () => stop.abort(),
    async next<K extends StatusEvent["kind"]>(kind: K, pred: (event: Extract<StatusEvent, { kind: K }>) => boolean = () => true, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find((event): event is Extract<StatusEvent, { kind: K }> => event.kind === kind && pred(event as Extract<StatusEvent, { kind: K }>));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${kind} within ${timeoutMs}ms; got ${events.map((event) => event.kind).join(", ")}; output: ${events.flatMap((event) => (event.kind === "task.log" ? event.lines : [])).join(" | ").slice(0, 2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

describe("a budget stops claude-code", () => {
  it("stopped at the hard limit, paused; across a coordinator SIGKILL, baton budget + resume continue it and it completes", async () => {
    const workspace = gitRepo(join(dir, "workspaces", "parser"), { "README.md": "parser\n" });
    const seen = follow("parser");
    const cli = (...args: string[]) => runBaton([...args, "--config", cfg], processEnv);
    try {
      await jetstream(nc).publish(n.featureSubmit(), encode({
        id: "parser", title: "parser", workspace, budget: { tokens: 10_000 },
        tasks: [{ id: "impl", role: "backend", title: "Refactor the parser", files: ["done.txt"] }],
      }));
      expect(await seen.next("budget.warning")).toMatchObject({ scope: "feature", metric: "tokens", limit: 10_000 });
      const exceeded = await seen.next("budget.exceeded");
      expect(exceeded).toMatchObject({ scope: "feature", metric: "tokens", limit: 10_000, stopped: [{ taskId: "impl", attempt: 1 }] });
      expect(exceeded.used).toBeGreaterThanOrEqual(10_000);
      expect(await seen.next("feature.paused")).toMatchObject({ reason: expect.stringMatching(/^budget: tokens \d+ of 10000$/) });
      // the worker killed the CLI mid-run and answered with what it had used so far
      const stopped = await seen.next("task.failed", undefined, 30_000);
      expect(stopped).toMatchObject({ taskId: "impl", attempt: 1, error: { code: "BUDGET_EXCEEDED" } });
      expect(stopped.usage!.inputTokens).toBeGreaterThanOrEqual(8000);
      expect(onBranch(workspace, "parser")).not.toContain("done.txt"); // it never got that far

      // the coordinator dies; its successor has it all from the stored state
      await procs[0]!.kill("SIGKILL");
      procs[0] = baton(["coordinator", "--config", cfg], processEnv, { cwd: dir });
      await procs[0].waitFor(/coordinator ready/, 30_000);
      const refused = await cli("resume", "parser");
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/over its budget: tokens \d+ of 10000 \(raise it: `baton budget parser --tokens N`\)/);
      const status = await cli("status", "parser");
      expect(status.stdout).toMatch(/budget: tokens \d+\/10000 \(\d+%\)/);
      expect(status.stdout).toContain("waits for a budget raise");

      expect((await cli("budget", "parser", "--tokens", "100000")).status).toBe(0);
      expect((await cli("resume", "parser")).status).toBe(0);
      await seen.next("feature.completed", undefined, 120_000);
      expect(seen.events.filter((event) => event.kind === "task.dispatched").map((event) => "attempt" in event && event.attempt)).toEqual([1, 2]);
      // the work is on the feature's branch; the checkout is never edited
      expect(execFileSync("git", ["show", "baton/parser:done.txt"], { cwd: workspace, encoding: "utf8" })).toBe("refactored\n");
      expect(existsSync(join(workspace, "done.txt"))).toBe(false);
      const { view } = await getFeature(nc, n, "parser");
      // the stopped run's usage and the whole second run's (8 turns of 2100 tokens) are both counted
      expect(view!.usage!.tokens).toBeGreaterThanOrEqual(stopped.usage!.inputTokens + stopped.usage!.outputTokens + 8 * 2100);
      expect(view!.budget).toMatchObject({ tokens: 100_000 });
    } finally {
      seen.stop();
    }
  }, 240_000);
});
