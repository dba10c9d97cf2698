// Gate names a request names (the feature's, its tasks', test-driven phases') that the operator's config does not define.
import type { ValidationIssue } from "./common.ts";
import { REVIEW_GATE } from "./gates.ts";
import { didYouMean } from "./suggest.ts";

/** Gate names in the request (feature's and tasks') that the operator's config does not define. */
export function gateIssues(json: unknown, gates: readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const known = new Set([...gates, REVIEW_GATE]);
  const hint = gates.length
    ? `configured gates: ${gates.join(", ")}; and "${REVIEW_GATE}", the reviewer's verdict`
    : `no gates are configured (config \`gates:\` or \`gatePresets:\`); only "${REVIEW_GATE}", the reviewer's verdict, needs none`;
  const check = (names: unknown, path: string) => {
    if (!Array.isArray(names)) return;
    names.forEach((gate, index) => {
      if (typeof gate === "string" && !known.has(gate)) issues.push({ path: `${path}[${index}]`, message: `unknown gate "${gate}"${didYouMean(gate, known)} (${hint})` });
    });
  };
  if (json && typeof json === "object") {
    check((json as { gates?: unknown }).gates, "gates");
    const tasks = (json as { tasks?: unknown }).tasks;
    if (Array.isArray(tasks)) {
      tasks.forEach((task, index) => {
        if (!task || typeof task !== "object") return;
        check((task as { gates?: unknown }).gates, `tasks[${index}].gates`);
        const tdd = (task as { tdd?: { gate?: unknown; refactorGates?: unknown } }).tdd;
        if (tdd && typeof tdd === "object") {
          check([tdd.gate], `tasks[${index}].tdd.gate`);
          check(tdd.refactorGates, `tasks[${index}].tdd.refactorGates`);
        }
      });
    }
  }
  return issues;
}
