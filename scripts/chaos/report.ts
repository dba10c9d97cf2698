// Prints the chaos report (markdown tables, easy to read and to paste) and describes the machine.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem, type as osType } from "node:os";
import { join } from "node:path";
import type { Analysis, KillRecord, Stats } from "./analyze.ts";

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  natsServer: string;
  baton: string;
  commit: string;
  packages: Record<string, string>;
}

const tryRun = (cmd: string, args: string[], cwd?: string): string => {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
};

export function describeMachine(root: string): Machine {
  const version = (p: string) => {
    try {
      return (JSON.parse(readFileSync(join(root, p, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      return "unknown";
    }
  };
  let os = `${osType()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
    if (pretty) os = `${pretty} (${osType()} ${release()})`;
  } catch {
    // not Linux, or no os-release
  }
  const dirty = tryRun("git", ["status", "--porcelain", "--untracked-files=no"], root);
  const commit = tryRun("git", ["rev-parse", "--short", "HEAD"], root);
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os,
    node: process.version,
    natsServer: tryRun("nats-server", ["--version"]).replace(/^nats-server:\s*/, ""),
    baton: version("."),
    commit: commit + (dirty && dirty !== "unknown" ? " (with uncommitted changes)" : ""),
    packages: Object.fromEntries(
      ["@nats-io/jetstream", "@nats-io/transport-node", "@nats-io/kv", "xstate", "zod", "pino", "tsx"].map((p) => [p, version(join("node_modules", p))]),
    ),
  };
}

const ms = (x: number | null) => (x === null ? "–" : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x} ms`);
const recovery = (x: { open: number; ms: number | null } | undefined) =>
  !x ? "" : !x.open ? "recovery n/a (no feature was open)" : x.ms === null ? `NO event after the kill (${x.open} open)` : `recovery ${ms(x.ms)} (${x.open} open)`;
const st = (s: Stats) => (s.n ? `median ${ms(s.medianMs)}, max ${ms(s.maxMs)} (n=${s.n})` : "no samples");

/** The summary table: one figure per row. */
export function renderTable(a: Analysis, t: { setupMs: number; chaosMs: number; drainMs: number; totalMs: number }): string {
  const r = a.recovery;
  const rows: [string, string | number][] = [
    ["features submitted", a.features.submitted],
    ["features completed", a.features.completed],
    ["features failed", a.features.failed + a.features.rejected + a.features.cancelled],
    ["features still running (stuck)", a.features.stuck],
    ["features lost (never accepted)", a.features.lost],
    ["tasks in submitted features", a.tasks.total],
    ["tasks executed (ledger starts)", a.tasks.executions],
    ["executions cut short (agent got SIGTERM / vanished)", `${a.tasks.interrupted.killed} / ${a.tasks.interrupted.unfinished}`],
    ["tasks executed more than once", `${a.tasks.repeated} (${a.tasks.extraExecutions} extra runs)`],
    ["… of which after a kill of the worker running them", a.tasks.repeatedAfterWorkerKill],
    ["… of which after the nats-server restart", a.tasks.repeatedAfterNatsRestart],
    ["… other", a.tasks.repeatedOther],
    ["tasks completed twice", a.tasks.completedTwice],
    ["gate runs passed / failed", `${a.gates.passed} / ${a.gates.failed}`],
    ["features measuring a test baseline before their first task", `${a.gates.baselined - a.gates.tasksBeforeBaseline.length} of ${a.gates.baselined}`],
    ["handoffs (~6 KiB each, stored by reference) that reached their dependents intact", `${a.handoffs.checked - a.handoffs.bad.length} of ${a.handoffs.checked}`],
    ["gated tasks / features completed (each only after its gate passed)", `${a.gates.gatedTasks} / ${a.gates.gatedFeatures}${a.gates.completedUngated.length ? `; ${a.gates.completedUngated.length} WITHOUT` : ""}`],
    ["features with exactly 1 terminal event", `${a.terminalEvents.exactlyOne} of ${a.features.submitted}`],
    ["status events read / gaps / conflicting seqs", `${a.history.events} / ${a.history.gaps.length} / ${a.history.conflicts.length}`],
    ["kills: coordinator / worker / nats", `${a.kills.coordinator} / ${a.kills.worker} / ${a.kills.nats}`],
    ["recovery after a coordinator kill", st(r.coordinatorKill)],
    ["killed worker's task started again", st(r.taskRerunAfterWorkerKill)],
    ["restart → ready: coordinator", st(r.restartToReady.coordinator)],
    ["restart → ready: worker", st(r.restartToReady.worker)],
    ["restart → ready: nats-server", st(r.restartToReady.nats)],
    ["task end → task.completed stored", `${st(r.resultToEvent)}; over 5 s: ${r.resultToEvent.over5s}`],
    ["run time: setup / chaos / drain / total", `${ms(t.setupMs)} / ${ms(t.chaosMs)} / ${ms(t.drainMs)} / ${ms(t.totalMs)}`],
  ];
  return ["| figure | value |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n");
}

/** One row per kill, with the coordinator recovery sample or the killed worker's running tasks. */
export function renderKills(kills: KillRecord[], a: Analysis, chaosStart: number): string {
  let c = 0;
  const rows = kills.map((k, i) => {
    const what =
      k.kind === "worker" ? (k.running.length ? `running ${k.running.map((x) => `${x.featureId}/${x.taskId}#${x.attempt}`).join(", ")}` : "idle")
      : k.kind === "coordinator" ? recovery(a.recovery.coordinatorKill.samples[c++])
      : "";
    const ready = k.readyAt !== undefined ? ms(k.readyAt - k.at) : "–";
    return `| ${i + 1} | ${((k.at - chaosStart) / 1000).toFixed(1)} | ${k.kind} | ${k.slot} | ${k.pid} | ${ready} | ${what} |`;
  });
  return ["| # | t (s) | kind | process | pid | kill → ready | notes |", "|---|---|---|---|---|---|---|", ...rows].join("\n");
}

export function renderMachine(m: Machine): string {
  const pk = Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(", ");
  return `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}\nnode ${m.node}, nats-server ${m.natsServer}, baton ${m.baton} (commit ${m.commit})\npackages: ${pk}`;
}
