// CPU time of processes over a measured window, read from /proc/<pid>/stat: which process a figure was waiting on.
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK)

/** CPU time (user + system, all threads) a process has used so far, in ms; undefined when unreadable. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND; // fields 14 and 15: utime, stime
  } catch {
    return undefined;
  }
}

/** CPU used by groups of processes over a window, as ms and as a share of one core over the window's wall time. */
export interface CpuUse {
  wallMs: number;
  /** Per group: CPU ms used in the window, and that as % of one core (100 = one core busy all the time). */
  groups: Record<string, { ms: number; pctOfCore: number }>;
}

export function cpuMeter(groups: Record<string, number[]>): { stop(): CpuUse } {
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const sum = (pids: number[]) => pids.reduce((a, p) => a + (cpuMs(p) ?? 0), 0);
  const start = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, sum(pids)]));
  return {
    stop() {
      const wallMs = performance.now() - t0;
      const self = process.cpuUsage(self0);
      const used: Record<string, number> = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, sum(pids) - start[k]!]));
      used.bench = (self.user + self.system) / 1000;
      return { wallMs, groups: Object.fromEntries(Object.entries(used).map(([k, ms]) => [k, { ms, pctOfCore: (100 * ms) / wallMs }])) };
    },
  };
}

/** CPU of each process group during the measured part, as ms per unit of work and as % of one core. */
export interface CpuFigures {
  wallMs: number;
  /** Per group (coordinator, workers, nats, bench): CPU ms per task (or step), and % of one core. */
  perUnitMs: Record<string, number>;
  pctOfCore: Record<string, number>;
}

export function cpuFigures(use: CpuUse, units: number): CpuFigures {
  const g = Object.entries(use.groups);
  return {
    wallMs: use.wallMs,
    perUnitMs: Object.fromEntries(g.map(([k, v]) => [k, v.ms / units])),
    pctOfCore: Object.fromEntries(g.map(([k, v]) => [k, v.pctOfCore])),
  };
}

