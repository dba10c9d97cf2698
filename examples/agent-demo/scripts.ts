// The agent demo's plan (plan.ts) in each CLI's own tool calls, as a script file for the scripted model server
// (services/model-server/script.ts): Claude Code writes with `Write`, changes files with `Read` then `Edit`, runs
// commands with `Bash`; Codex writes and changes files with `apply_patch` and runs commands with `exec_command`.
import type { ScriptInput } from "../../services/model-server/server.ts";
import { hunks, hunkTexts, linesOf, patchHunk } from "./diff.ts";
import type { DemoScript, Round, Step } from "./plan.ts";

export type DemoAgent = "claude-code" | "codex";

type Turn = ScriptInput["turns"][number];
type Tool = { name: string; input: Record<string, unknown> };

const turn = (text: string | undefined, tools: Tool[] = []): Turn => ({ ...(text === undefined ? {} : { text }), tools });

/** Claude Code's turns for one step. A change to a file is read first (its Edit refuses a file it has not read). */
function claudeTurns(step: Step): Turn[] {
  if (step.kind === "run") return [turn(`Running \`${step.command}\`.`, [{ name: "Bash", input: { command: step.command, description: `Run ${step.command}` } }])];
  const write = turn(`Writing ${step.path}.`, [{ name: "Write", input: { file_path: step.path, content: step.kind === "write" ? step.content : step.after } }]);
  if (step.kind === "write") return [write];
  const read = turn(`Reading ${step.path} before changing it.`, [{ name: "Read", input: { file_path: step.path } }]);
  const edits = claudeEdits(step.before, step.after);
  if (!edits) return [read, write];
  return [read, ...edits.map((edit, index) => turn(index === 0 ? `Editing ${step.path}.` : undefined, [{ name: "Edit", input: { file_path: step.path, ...edit } }]))];
}

/**
 * The Edit calls that turn `before` into `after`, one per hunk, each `old_string` found exactly once in the file as it
 * is by then (Claude Code refuses an ambiguous one); undefined when that does not work out (the file is then rewritten).
 */
function claudeEdits(before: string, after: string): { old_string: string; new_string: string }[] | undefined {
  let current = before;
  const edits: { old_string: string; new_string: string }[] = [];
  for (const hunk of hunks(before, after, 2)) {
    const { oldText, newText } = hunkTexts(hunk);
    const first = current.indexOf(oldText);
    if (oldText === "" || first < 0 || current.indexOf(oldText, first + 1) >= 0) return undefined;
    current = current.slice(0, first) + newText + current.slice(first + oldText.length);
    edits.push({ old_string: oldText, new_string: newText });
  }
  return current === after ? edits : undefined;
}

/** Codex's turns for one step: one `apply_patch` per file (added, or updated by hunks), `exec_command` per command. */
function codexTurns(step: Step): Turn[] {
  if (step.kind === "run") return [turn(`Running \`${step.command}\`.`, [{ name: "exec_command", input: { cmd: step.command } }])];
  const body = step.kind === "write"
    ? [`*** Add File: ${step.path}`, ...linesOf(step.content).map((line) => `+${line}`)]
    : [`*** Update File: ${step.path}`, ...hunks(step.before, step.after).map(patchHunk)];
  const patch = ["*** Begin Patch", ...body, "*** End Patch", ""].join("\n");
  return [turn(`${step.kind === "write" ? "Writing" : "Changing"} ${step.path}.`, [{ name: "apply_patch", input: { input: patch } }])];
}

const TURNS: Record<DemoAgent, (step: Step) => Turn[]> = { "claude-code": claudeTurns, codex: codexTurns };

/** One round's turns: its steps, then its summary as the final message. */
const roundTurns = (agent: DemoAgent, round: Round): Turn[] => [...round.steps.flatMap(TURNS[agent]), turn(round.summary)];

/**
 * The script file for `agent`: one script per demo script, in order (the server takes the first whose `match` the
 * conversation's prompt contains), and a fallback that says plainly that the prompt is not one of the demo's.
 */
export function scriptFile(agent: DemoAgent, scripts: readonly DemoScript[]): { scripts: ScriptInput[] } {
  const played: ScriptInput[] = scripts.map((script) => ({
    match: script.match,
    turns: script.rounds.flatMap((round) => roundTurns(agent, round)),
    then: "Nothing more to do for this task.",
  }));
  played.push({ turns: [turn("This is Baton's scripted demo model: it only knows the tasks of examples/features/api-first.yaml.")] });
  return { scripts: played };
}
