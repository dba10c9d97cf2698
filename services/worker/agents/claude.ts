// The Claude Code dialect: `claude -p --output-format stream-json --verbose` with the prompt on stdin, its config
// home in CLAUDE_CONFIG_DIR, an unattended permission default that also works as root, and `--resume` for sessions.
import { mkdir, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { AGENT_CLIS } from "../../../shared/agents.ts";
import { createClaudeParser } from "./claude-stream.ts";
import { copyIfChanged, linkIfMissing } from "./home-files.ts";
import { copyFolderIfAny, copyWhole, modifiedAt } from "./session-files.ts";
import type { AgentDialect } from "./types.ts";

/**
 * Permission default: `acceptEdits` plus an allowed-tools list (edits, Bash and the read tools) runs unattended,
 * also as root in a container, where Claude Code refuses `bypassPermissions` (docs/agents.md).
 */
export const CLAUDE_DEFAULT_PERMISSION_MODE = "acceptEdits";
export const CLAUDE_DEFAULT_ALLOWED_TOOLS: readonly string[] = [
  "Bash", "Edit", "MultiEdit", "Write", "NotebookEdit", "Read", "Glob", "Grep", "LS", "TodoWrite",
];
/** Allowed tools in `plan` mode when none are configured: an allowed Bash would still run commands in plan mode. */
export const CLAUDE_READ_ONLY_TOOLS: readonly string[] = ["Read", "Glob", "Grep", "LS"];

/** Operator files copied into each home (settings); credentials are linked, never copied. */
const COPIED = ["settings.json", "CLAUDE.md"];
const LINKED = [".credentials.json"];

/** The operator's own Claude config folder: $CLAUDE_CONFIG_DIR, else ~/.claude. */
const operatorHome = (env: Readonly<Record<string, string | undefined>>): string =>
  env["CLAUDE_CONFIG_DIR"] ?? join(env["HOME"] ?? homedir(), ".claude");

export const claudeDialect: AgentDialect = {
  agent: "claude-code",
  binary: AGENT_CLIS["claude-code"].binary,
  keyEnv: AGENT_CLIS["claude-code"].keyEnv,
  readOnlyPermissionMode: "plan",
  invocation(input) {
    const args = [...input.extraArgs, "-p", "--output-format", "stream-json", "--verbose"];
    const mode = input.permissionMode ?? CLAUDE_DEFAULT_PERMISSION_MODE;
    args.push("--permission-mode", mode);
    const tools = input.allowedTools ?? (mode === "plan" ? CLAUDE_READ_ONLY_TOOLS : CLAUDE_DEFAULT_ALLOWED_TOOLS);
    if (tools.length) args.push("--allowedTools", tools.join(","));
    if (input.model) args.push("--model", input.model);
    if (input.resume) args.push("--resume", input.resume);
    return { args, stdin: input.prompt, env: { CLAUDE_CONFIG_DIR: input.home } };
  },
  async seedHome(home, operatorEnv) {
    await mkdir(home, { recursive: true });
    const source = operatorHome(operatorEnv);
    if (source === home) return;
    for (const name of COPIED) await copyIfChanged(join(source, name), join(home, name));
    for (const name of LINKED) await linkIfMissing(join(source, name), join(home, name));
  },
  hasSession: async (home, id) => (await sessionProject(home, id)) !== undefined,
  async sessionUpdatedAt(home, id) {
    const project = await sessionProject(home, id);
    return project === undefined ? undefined : modifiedAt(join(home, "projects", project, `${id}.jsonl`));
  },
  async copySession(fromHome, toHome, id) {
    const project = await sessionProject(fromHome, id);
    if (project === undefined) throw new Error(`no Claude session ${id} in ${fromHome}`);
    const [from, to] = [join(fromHome, "projects", project), join(toHome, "projects", project)];
    // its folder (sub-agent transcripts, saved tool results) first; the transcript last, which makes it resumable
    await copyFolderIfAny(join(from, id), join(to, id));
    await copyWhole(join(from, `${id}.jsonl`), join(to, `${id}.jsonl`));
  },
  createParser: createClaudeParser,
};

/** The project folder under `home`/projects holding session `id`'s transcript (`<project>/<id>.jsonl`), if any. */
async function sessionProject(home: string, id: string): Promise<string | undefined> {
  if (!/^[\w-]+$/.test(id)) return undefined;
  const projects = join(home, "projects");
  for (const project of await readdir(projects).catch(() => [] as string[])) {
    if ((await modifiedAt(join(projects, project, `${id}.jsonl`))) !== undefined) return project;
  }
  return undefined;
}

