// The worker's runner registry: which runner each kind of task message gets, for a given operator config.
// The config decides what exists; a message only picks among what exists (never an executor of its own).
import { describe, expect, it } from "vitest";
import { ExecRoleConfig, GateConfig } from "../../shared/config.ts";
import type { TaskAssigned } from "../../shared/protocol/index.ts";
import { createRunners } from "../../services/worker/runners/registry.ts";

const role = (spec: Record<string, unknown>): ExecRoleConfig => ExecRoleConfig.parse(spec);
const config = {
  configPath: "/etc/baton.yaml",
  workspace: undefined,
  roles: {
    backend: role({ exec: ["./agent.sh", "--fast"] }),
    reviewer: role({ exec: ["./review.sh"] }),
    bench: role({ executor: "sleep", sleepMs: 25 }),
    qa: role({ executor: "noop" }),
  },
  gates: { unit: GateConfig.parse({ run: ["npm", "test"] }), lint: GateConfig.parse({ run: ["npm", "run", "lint"] }) },
};
const runnersOf = (forRole: string) => createRunners({ role: forRole, workerId: `${forRole}-1`, config, env: {}, cwd: "/tmp" });

const work: Pick<TaskAssigned, "gate"> = {};
const gate = (name: string): Pick<TaskAssigned, "gate"> => ({ gate: { name, scope: "task", run: 1 } });
const picked = (resolved: ReturnType<ReturnType<typeof runnersOf>["for"]>) =>
  "runner" in resolved ? { kind: resolved.runner.kind, reports: resolved.runner.reports, describe: resolved.runner.describe } : { error: resolved.error };

describe("the runner registry", () => {
  it("gives a task the role's configured executor: exec, sleep or noop", () => {
    expect(picked(runnersOf("backend").for(work))).toEqual({ kind: "exec", reports: "task", describe: "exec ./agent.sh --fast" });
    expect(picked(runnersOf("bench").for(work))).toEqual({ kind: "sleep", reports: "task", describe: "sleep (default 25 ms)" });
    expect(picked(runnersOf("qa").for(work))).toEqual({ kind: "noop", reports: "task", describe: "noop" });
  });

  it("gives a gate run the configured gates, whatever the role (an unknown gate name is answered by that runner)", () => {
    for (const forRole of ["qa", "backend", "ghost"]) {
      for (const name of ["unit", "lint", "no-such-gate"]) {
        expect(picked(runnersOf(forRole).for(gate(name)))).toEqual({ kind: "gate", reports: "gate", describe: "gates (unit, lint)" });
      }
    }
  });

  it("gives the review gate the review runner, by the role's own executor (or none)", () => {
    expect(picked(runnersOf("reviewer").for(gate("review")))).toEqual({ kind: "review", reports: "gate", describe: "review by exec ./review.sh" });
    expect(picked(runnersOf("ghost").for(gate("review")))).toEqual({ kind: "review", reports: "gate", describe: "review by no executor" });
  });

  it("answers NO_EXECUTOR for the tasks of a role the config has no executor for", () => {
    const runners = runnersOf("ghost");
    const message = 'no executor configured for role "ghost" on worker ghost-1 (config /etc/baton.yaml)';
    expect(runners.executor).toBeUndefined();
    expect(runners.noExecutor).toEqual({ name: "NoExecutor", code: "NO_EXECUTOR", message });
    expect(picked(runners.for(work))).toEqual({ error: { name: "NoExecutor", code: "NO_EXECUTOR", message } });
    expect(runnersOf("backend").noExecutor).toBeUndefined();
  });

  it("is built once: the same kind of task gets the same runner every time", () => {
    const runners = runnersOf("backend");
    const runnerOf = (task: Pick<TaskAssigned, "gate">) => {
      const resolved = runners.for(task);
      return "runner" in resolved ? resolved.runner : undefined;
    };
    expect(runnerOf(work)).toBe(runners.executor);
    expect(runnerOf(gate("unit"))).toBe(runnerOf(gate("lint")));
    expect(runnerOf(gate("review"))).toBe(runnerOf(gate("review")));
  });
});
