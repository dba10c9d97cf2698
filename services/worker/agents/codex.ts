// The Codex dialect: `codex exec --json` with the prompt on stdin, its config home in CODEX_HOME, the
// `workspace-write` sandbox as the unattended default, and `codex exec … resume <id>` to continue a session.
import { mkdir, open, readdir, realpath } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { AGENT_CLIS } from "../../../shared/agents.ts";
import { createCodexParser } from "./codex-stream.ts";
import { copyIfChanged, copyIfNewer } from "./home-files.ts";
import { copyWhole, modifiedAt } from "./session-files.ts";
import type { AgentDialect } from "./types.ts";

/**
 * Sandbox default: `workspace-write` lets the agent edit the workspace and run commands in it, without network,
 * and never stops to ask (exec mode cannot ask; approvals are `never`). Works unattended, also as root.
 */
export const CODEX_DEFAULT_SANDBOX = "workspace-write";

/** `permissionMode` values that mean "no sandbox, no approvals" (for runs already confined by a container or VM). */
const BYPASS = new Set(["bypass", "dangerously-bypass-approvals-and-sandbox"]);

/** Operator files copied into each home when they change (settings, global instructions). */
const COPIED = ["config.toml", "AGENTS.md"];
/** Credentials: copied when the operator's is newer, so a token a run refreshed in its home is kept until then. */
const CREDENTIALS = "auth.json";
/** Where Codex keeps its sessions under its home. */
const SESSIONS = "sessions";

/** The operator's own Codex folder: $CODEX_HOME, else ~/.codex. */
const operatorHome = (env: Readonly<Record<string, string | undefined>>): string => env["CODEX_HOME"] ?? join(env["HOME"] ?? homedir(), ".codex");

/** The sandbox and approval arguments for a permission mode (undefined: the default). */
export function codexPermissionArgs(permissionMode: string | undefined): string[] {
  if (permissionMode !== undefined && BYPASS.has(permissionMode)) return ["--dangerously-bypass-approvals-and-sandbox"];
  return ["--sandbox", permissionMode ?? CODEX_DEFAULT_SANDBOX, "-c", 'approval_policy="never"'];
}

export const codexDialect: AgentDialect = {
  agent: "codex",
  binary: AGENT_CLIS.codex.binary,
  keyEnv: AGENT_CLIS.codex.keyEnv,
  readOnlyPermissionMode: "read-only",
  invocation(input) {
    const args = ["exec", ...input.extraArgs, "--json", "--skip-git-repo-check", ...codexPermissionArgs(input.permissionMode)];
    if (input.model) args.push("--model", input.model);
    if (input.resume) args.push("resume", input.resume);
    args.push("-");
    return { args, stdin: input.prompt, env: { CODEX_HOME: input.home } };
  },
  async seedHome(home, operatorEnv) {
    await mkdir(home, { recursive: true });
    const source = operatorHome(operatorEnv);
    if (source === home) return;
    for (const name of COPIED) await copyIfChanged(join(source, name), join(home, name));
    await copyIfNewer(join(source, CREDENTIALS), join(home, CREDENTIALS));
  },
  hasSession: async (home, id, cwd) => (await rolloutOf(home, id, cwd)) !== undefined,
  async sessionUpdatedAt(home, id, cwd) {
    const rollout = await rolloutOf(home, id, cwd);
    return rollout === undefined ? undefined : modifiedAt(join(home, SESSIONS, rollout));
  },
  async copySession(fromHome, toHome, id, cwd) {
    const rollout = await rolloutOf(fromHome, id, cwd);
    if (rollout === undefined) throw new Error(`no Codex session ${id} for ${cwd} in ${fromHome}`);
    // the same path under sessions/ (YYYY/MM/DD/rollout-…-<id>.jsonl): `codex exec resume` finds it by its id
    await copyWhole(join(fromHome, SESSIONS, rollout), join(toHome, SESSIONS, rollout));
  },
  createParser: createCodexParser,
};

/** The rollout file of session `id` (its path under `home`/sessions), when it was recorded in workspace `cwd`. */
async function rolloutOf(home: string, id: string, cwd: string): Promise<string | undefined> {
  if (!/^[\w-]+$/.test(id)) return undefined;
  const names = await readdir(join(home, SESSIONS), { recursive: true }).catch(() => [] as string[]);
  const found = names.find((name) => name.endsWith(`-${id}.jsonl`));
  if (!found) return undefined;
  const recorded = sessionCwd(await firstLine(join(home, SESSIONS, found)));
  if (recorded === undefined) return found;
  const [want, have] = await Promise.all([realpath(cwd).catch(() => cwd), realpath(recorded).catch(() => recorded)]);
  return want === have ? found : undefined;
}

/** The working folder a rollout's first line (`session_meta`) records, if it is readable. */
function sessionCwd(line: string | undefined): string | undefined {
  try {
    const meta = JSON.parse(line ?? "") as { payload?: { cwd?: unknown } };
    return typeof meta.payload?.cwd === "string" ? meta.payload.cwd : undefined;
  } catch {
    return undefined;
  }
}

/** The first line of a file (read up to 4 MiB: Codex puts its whole base instructions on it). */
async function firstLine(path: string): Promise<string | undefined> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const chunks: Buffer[] = [];
    for (let total = 0; total < 4 * 1024 * 1024; ) {
      const { bytesRead, buffer } = await handle.read({ buffer: Buffer.alloc(64 * 1024) });
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      const end = chunk.indexOf(10);
      chunks.push(end >= 0 ? chunk.subarray(0, end) : chunk);
      if (end >= 0) break;
      total += bytesRead;
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    await handle.close();
  }
}

