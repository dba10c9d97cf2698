// Baton's overhead per agent task: the real `claude -p` against the scripted model server, run directly (spawn →
// exit, same arguments, prompt and config home as the worker gives it) and through Baton (a chain of tasks on a
// claude-code role: the gap between consecutive task.completed stored times), alternating in one run on one
// machine. Overhead = median through Baton − median direct; the target is ≤ 100 ms per task (docs/performance.md).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { resolveAgentCommand } from "../shared/agents.ts";
import { ALL_DIALECTS } from "../services/model-server/dialects.ts";
import { ModelServer } from "../services/model-server/server.ts";
import { claudeDialect } from "../services/worker/agents/claude.ts";
import { buildPrompt } from "../services/worker/agents/prompt.ts";
import { gaps, summarize, type Summary } from "./stats.ts";
import { makeFeature, run, withStack, type Ctx } from "./scenarios.ts";
import { ROOT } from "./world.ts";

export interface AgentResult {
  tasks: number;
  rounds: number;
  cliVersion: string;
  /** One direct `claude -p` run, spawn to exit (ms). */
  direct: Summary;
  /** One task through Baton: consecutive task.completed stored times of a chain (ms). */
  baton: Summary;
  /** Median through Baton − median direct (ms per task). */
  overheadMs: number;
  /** Each step split: task.dispatched stored → result received (worker side, the CLI's run included) → task.completed stored → next task.dispatched stored (ms). */
  segments: { workerSide: Summary; coordinatorApply: Summary; completedToNextDispatched: Summary };
}

const ROLE = "agent";
const TITLE = (index: number) => `benchmark task ${index}`;

/** The environment that points Claude Code at the scripted server (and keeps it off the network). */
function claudeEnv(url: string): Record<string, string> {
  return { ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: "bench-key", DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", DISABLE_AUTOUPDATER: "1" };
}

/** Runs `claude -p` once as the worker would for the first task of the chain; resolves with its wall time (ms). */
async function directRun(argv: string[], env: Record<string, string>, cwd: string, home: string): Promise<number> {
  const prompt = buildPrompt({ task: { featureId: "direct", taskId: "t0", title: TITLE(0), feature: { title: "benchmark direct" } }, handoffs: [] });
  const invocation = claudeDialect.invocation({ prompt, cwd, home, extraArgs: [] });
  await claudeDialect.seedHome(home, process.env);
  const started = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(argv[0]!, [...argv.slice(1), ...invocation.args], { cwd, env: { ...process.env, ...env, ...invocation.env }, stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.once("error", reject);
    child.once("exit", (exitCode) => resolve(exitCode));
    child.stdin.end(invocation.stdin);
  });
  if (code !== 0) throw new Error(`claude -p exited with ${code} in the direct run`);
  return performance.now() - started;
}

async function cliVersion(argv: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, [...argv.slice(1), "--version"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("exit", () => resolve(out.trim() || "unknown"));
    child.once("error", () => resolve("unknown"));
  });
}

/** Alternates `rounds` batches of direct runs and Baton chains of `tasks` claude-code tasks. */
export async function agentScenario(ctx: Ctx, o: { tasks: number; rounds: number }): Promise<AgentResult> {
  const model = new ModelServer({ scripts: [{ turns: [{ text: "Done: nothing to change." }] }], dialects: ALL_DIALECTS });
  const url = await model.start();
  const argv = resolveAgentCommand("claude-code", undefined, ROOT);
  const env = claudeEnv(url);
  const scratch = join(ctx.world.dir, "agent-direct");
  const home = join(scratch, "home");
  mkdirSync(home, { recursive: true });
  try {
    const version = await cliVersion(argv);
    ctx.say(`  agent: ${version}; ${o.rounds} round(s) of ${o.tasks} direct runs, then a chain of ${o.tasks} tasks through Baton`);
    const roles = { [ROLE]: { agent: "claude-code" as const, timeoutSeconds: 120, stallSeconds: 60, env } };
    return await withStack(ctx, "agent", roles, async (stack) => {
      await stack.addWorkers([{ role: ROLE, concurrency: 1 }]);
      await directRun(argv, env, scratch, home); // warm-ups: the CLI's files in the page cache, both homes seeded
      await run(ctx, stack, "warm-up", [makeFeature("agent-warm", 2, { role: ROLE, chain: true })], 120_000);
      const direct: number[] = [];
      const baton: number[] = [];
      const seg = { worker: [] as number[], apply: [] as number[], next: [] as number[] };
      for (let round = 1; round <= o.rounds; round++) {
        for (let index = 0; index < o.tasks; index++) direct.push(await directRun(argv, env, scratch, home));
        const feature = makeFeature(`agent-${round}`, o.tasks + 1, { role: ROLE, chain: true });
        await run(ctx, stack, `chain of ${o.tasks + 1} agent tasks (round ${round})`, [feature], 600_000);
        const events = stack.observer.features.get(feature.id)!;
        baton.push(...gaps(feature.tasks.map((task) => events.completed.get(task.id)!)));
        for (let index = 1; index < feature.tasks.length; index++) {
          const [prev, id] = [feature.tasks[index - 1]!.id, feature.tasks[index]!.id];
          const received = events.completedAt.get(id);
          if (received === undefined) continue;
          seg.next.push(events.dispatched.get(id)! - events.completed.get(prev)!);
          seg.worker.push(received - events.dispatched.get(id)!);
          seg.apply.push(events.completed.get(id)! - received);
        }
      }
      const result: AgentResult = { tasks: o.tasks, rounds: o.rounds, cliVersion: version, direct: summarize(direct), baton: summarize(baton), overheadMs: summarize(baton).p50 - summarize(direct).p50,
        segments: { workerSide: summarize(seg.worker), coordinatorApply: summarize(seg.apply), completedToNextDispatched: summarize(seg.next) } };
      ctx.say(`  agent: direct p50 ${result.direct.p50.toFixed(0)} ms, through Baton p50 ${result.baton.p50.toFixed(0)} ms: overhead ${result.overheadMs.toFixed(0)} ms per task`);
      ctx.say(`  agent: segments p50: worker side ${result.segments.workerSide.p50.toFixed(1)} ms, apply ${result.segments.coordinatorApply.p50.toFixed(1)} ms, to next dispatch ${result.segments.completedToNextDispatched.p50.toFixed(1)} ms`);
      return result;
    });
  } finally {
    await model.close();
  }
}
