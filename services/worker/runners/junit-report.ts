// The JUnit XML report a gate's command writes (GateConfig `junit`): cleared before the run, so a report left
// by an earlier run is never read, and read after it for the test counts.
import { readFile, rm, stat } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { parseJunit } from "../../../shared/gates/parsers.ts";
import type { TestCounts } from "../../../shared/gates/types.ts";

/** Larger reports are refused rather than read into memory (a JUnit file is usually a few hundred KB). */
const MAX_REPORT_BYTES = 32 * 1024 * 1024;

/** The report's absolute path, or an error when `file` points outside the workspace. */
function reportPath(dir: string, file: string): { path: string } | { error: string } {
  const path = isAbsolute(file) ? file : join(dir, file);
  const rel = relative(dir, path);
  return rel.startsWith("..") || isAbsolute(rel) ? { error: `JUnit report ${file} is outside the workspace` } : { path };
}

/** Removes a previous run's report. Safe to call when there is none; never throws (an error is returned). */
export async function clearJunitReport(dir: string, file: string): Promise<string | undefined> {
  const where = reportPath(dir, file);
  if ("error" in where) return where.error;
  try {
    await rm(where.path, { force: true });
    return undefined;
  } catch (err) {
    return `cannot remove the old JUnit report ${file}: ${(err as Error).message}`;
  }
}

/** The counts of the report the command wrote, or why there are none (missing, too large, not JUnit XML). */
export async function readJunitReport(dir: string, file: string): Promise<{ counts: TestCounts } | { error: string }> {
  const where = reportPath(dir, file);
  if ("error" in where) return where;
  try {
    const size = (await stat(where.path)).size;
    if (size > MAX_REPORT_BYTES) return { error: `JUnit report ${file} is ${size} bytes, over the ${MAX_REPORT_BYTES}-byte limit` };
    return { counts: parseJunit(await readFile(where.path, "utf8")) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { error: `the command wrote no JUnit report at ${file}` };
    return { error: `cannot read JUnit report ${file}: ${(err as Error).message}` };
  }
}
