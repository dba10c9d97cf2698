// What the figures were measured on: machine, load at the start, versions of every moving part, and the commit.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostname, loadavg } from "node:os";
import { join } from "node:path";
import { describeMachine } from "../scripts/chaos/report.ts";

export interface MachineInfo {
  host: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAtStart: [number, number, number];
  node: string;
  natsServer: string;
  redisServer: string;
  commit: string;
  /** Uncommitted changes to what runs (services/, shared/, bin/) when the run started: the figures are for those. */
  uncommittedRuntime: string[];
  packages: Record<string, string>;
}

const PACKAGES = ["@nats-io/nats-core", "@nats-io/jetstream", "@nats-io/kv", "@nats-io/transport-node", "xstate", "zod", "pino", "tsx", "bullmq", "ioredis"];

function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

export function machineInfo(root: string): MachineInfo {
  const m = describeMachine(root);
  const version = (dir: string) => {
    try {
      return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      return "not installed";
    }
  };
  const la = loadavg();
  const status = run("git", ["status", "--porcelain", "--", "services", "shared", "bin"], root);
  return {
    host: hostname(),
    cpuModel: m.cpuModel,
    cores: m.cpus,
    memoryGiB: m.memoryGiB,
    os: m.os,
    loadAtStart: [la[0]!, la[1]!, la[2]!].map((x) => Math.round(x * 100) / 100) as [number, number, number],
    node: m.node,
    natsServer: m.natsServer,
    redisServer: run("redis-server", ["--version"]).replace(/^Redis server v=(\S+).*$/s, "$1"),
    commit: run("git", ["rev-parse", "--short", "HEAD"], root),
    uncommittedRuntime: status && status !== "unknown" ? status.split("\n").map((l) => l.trim()) : [],
    packages: { baton: m.baton, ...Object.fromEntries(PACKAGES.map((p) => [p, version(join(root, "node_modules", p))])) },
  };
}
