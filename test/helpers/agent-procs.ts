// Test helper: the processes an agent run started, found by a marker in their environment (e.g. the config home
// the executor gave the CLI, which every child inherits), with their process groups.
import { readdirSync, readFileSync } from "node:fs";

export interface FoundProcess {
  pid: number;
  pgid: number;
  command: string;
}

/** Live (not zombie) processes whose environment holds `marker` (a substring of one `NAME=value` entry). */
export function processesWithEnv(marker: string): FoundProcess[] {
  const found: FoundProcess[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, "utf8");
      if (!environ.split("\0").some((entry) => entry.includes(marker))) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      found.push({ pid: Number(name), pgid: Number(fields[2]), command: readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ").trim() });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** True when no process is left in group `pgid`. */
export function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch {
    return true;
  }
}
