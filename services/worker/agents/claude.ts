// The Claude Code dialect: `claude -p --output-format stream-json --verbose` with the prompt on stdin, its config
// home in CLAUDE_CONFIG_DIR, an unattended permission default that also works as root, and `--resume` for sessions.
import { mkdir, readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { AGENT_CLIS } from "../../../shared/agents.ts";
import { createClaudeParser } from "./claude-stream.ts";
import { copyIfChanged, linkIfMissing } from "./home-files.ts";
import type { AgentDialect } from "./types.ts";

/**
 * Permission default: `acceptEdits` plus an allowed-tools list (edits, Bash and the read tools) runs unattended,
 * also as root in a container, where Claude Code refuses `bypassPermissions` (docs/agents.md).
 */
export const CLAUDE_DEFAULT_PERMISSION_MODE = "acceptEdits";
export const CLAUDE_DEFAULT_ALLOWED_TOOLS: readonly string[] = [
  "Bash", "Edit", "MultiEdit", "Write", "NotebookEdit", "Read", "Glob", "Grep", "LS", "TodoWrite",
];

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
  invocation(input) {
    const args = [...input.extraArgs, "-p", "--output-format", "stream-json", "--verbose"];
    args.push("--permission-mode", input.permissionMode ?? CLAUDE_DEFAULT_PERMISSION_MODE);
    const tools = input.allowedTools ?? CLAUDE_DEFAULT_ALLOWED_TOOLS;
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
  async hasSession(home, id) {
    if (!/^[\w-]+$/.test(id)) return false;
    const projects = join(home, "projects");
    for (const project of await readdir(projects).catch(() => [] as string[])) {
      if (await stat(join(projects, project, `${id}.jsonl`)).then((st) => st.isFile(), () => false)) return true;
    }
    return false;
  },
  createParser: createClaudeParser,
};

