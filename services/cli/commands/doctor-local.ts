// `baton doctor`'s checks of this machine, which need no NATS: each agent role's CLI is found and answers `--version`,
// each `llm` role's key variable is set (its value never shown), git is new enough, the default workspace is in git.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { llmKeyEnv, resolveAgentCommand } from "../../../shared/agents.ts";
import type { AgentKind, BatonConfig } from "../../../shared/config.ts";
import type { Finding } from "./doctor.ts";

/** How long an agent CLI may take to print its version (Gemini CLI needs ~4 s on an idle machine). */
export const VERSION_TIMEOUT_MS = 15_000;
const GIT_TIMEOUT_MS = 10_000;
/** The oldest git that git features work with (`git worktree` as workers use it: `worktree remove`, `--no-checkout`…). */
export const MIN_GIT: readonly [major: number, minor: number] = [2, 25];

/** Where each CLI comes from, for the remedy of a missing one. */
const PACKAGES: Readonly<Record<Exclude<AgentKind, "llm">, string>> = {
  "claude-code": "@anthropic-ai/claude-code",
  codex: "@openai/codex",
  gemini: "@google/gemini-cli",
};

export interface LocalContext {
  cfg: Pick<BatonConfig, "roles" | "workspace" | "workspaceRoots">;
  /** The environment the workers would start with (this command's). */
  env: Readonly<Record<string, string | undefined>>;
  /** The folder the workers would start in (where `node_modules/.bin` is looked up). */
  cwd: string;
}

/** Runs the local checks, reporting one finding per role CLI, llm role and workspace. Never rejects. */
export async function checkLocal(ctx: LocalContext, report: (finding: Finding) => void): Promise<void> {
  await checkAgentClis(ctx, report);
  checkLlmKeys(ctx, report);
  report(gitFinding(await run(["git", "--version"], GIT_TIMEOUT_MS)));
  await checkWorkspace(ctx, report);
}

/** Every CLI an agent role would start (roles sharing a command are probed once, in parallel). */
async function checkAgentClis(ctx: LocalContext, report: (finding: Finding) => void): Promise<void> {
  const probes = new Map<string, { agent: Exclude<AgentKind, "llm">; argv: string[]; roles: string[] }>();
  for (const [role, rc] of Object.entries(ctx.cfg.roles).sort(([left], [right]) => left.localeCompare(right))) {
    if (!rc.agent || rc.agent === "llm") continue;
    const argv = resolveAgentCommand(rc.agent, rc.command, ctx.cwd);
    const key = JSON.stringify([rc.agent, argv]);
    const probe = probes.get(key) ?? { agent: rc.agent, argv, roles: [] };
    probe.roles.push(role);
    probes.set(key, probe);
  }
  const answers = await Promise.all([...probes.values()].map(async (probe) => ({ probe, answer: await probeVersion(probe.argv) })));
  for (const { probe, answer } of answers) {
    const who = `${probe.roles.length > 1 ? "roles" : "role"} ${probe.roles.join(", ")} (${probe.agent})`;
    const shown = probe.argv.join(" ");
    if ("version" in answer) {
      report({ check: "agents", verdict: "ok", message: `${who}: ${shown} answers --version: ${answer.version}` });
      continue;
    }
    const remedy = answer.missing
      ? `install it (npm install -g ${PACKAGES[probe.agent]}, or as a dependency of this project) or set roles.${probe.roles[0]}.command`
      : `check that ${shown} --version works in the workers' environment`;
    report({ check: "agents", verdict: "problem", message: `${who}: ${answer.problem}`, remedy });
  }
}

/** Each `llm` role's API key variable is set in the role's env or this environment; the value is never shown. */
function checkLlmKeys(ctx: LocalContext, report: (finding: Finding) => void): void {
  for (const [role, rc] of Object.entries(ctx.cfg.roles).sort(([left], [right]) => left.localeCompare(right))) {
    if (rc.agent !== "llm") continue;
    const name = llmKeyEnv(rc.llm);
    const who = `role ${role} (llm, ${rc.llm?.provider ?? "anthropic"}${rc.model ? `, ${rc.model}` : ""})`;
    if (rc.env[name] || ctx.env[name]) report({ check: "llm-keys", verdict: "ok", message: `${who}: API key variable ${name} is set` });
    else {
      report({
        check: "llm-keys", verdict: "problem", message: `${who}: API key variable ${name} is not set in this environment`,
        remedy: `export ${name} in the workers' environment (keys come only from the environment), or set roles.${role}.llm.apiKeyEnv`,
      });
    }
  }
}

/** The default workspace is in a git repository (warning otherwise: Baton works, with less); configured roots exist. */
async function checkWorkspace(ctx: LocalContext, report: (finding: Finding) => void): Promise<void> {
  const { workspace, workspaceRoots } = ctx.cfg;
  const roots = workspaceRoots ?? [...(workspace ? [workspace] : []), `${join("<worker folder>", ".baton", "workspaces")}`];
  report({ check: "workspace", verdict: "ok", message: `task workspaces must lie under: ${roots.join(", ")}${workspaceRoots ? "" : " (the default roots)"}` });
  for (const root of workspaceRoots ?? []) {
    if (!isDirectory(root)) report({ check: "workspace", verdict: "warning", message: `workspace root ${root} is not a folder on this machine`, remedy: `create it, or remove it from workspaceRoots` });
  }
  if (!workspace) {
    report({ check: "workspace", verdict: "ok", message: "no default workspace configured: a feature that names none runs in a new folder .baton/workspaces/<feature> of its worker" });
    return;
  }
  if (!isDirectory(workspace)) {
    report({ check: "workspace", verdict: "warning", message: `default workspace ${workspace} does not exist (a worker creates it empty, outside git)`, remedy: `create it as a git repository (git init ${workspace}, or a clone)` });
    return;
  }
  const git = await run(["git", "-C", workspace, "rev-parse", "--show-toplevel"], GIT_TIMEOUT_MS);
  if ("version" in git) report({ check: "workspace", verdict: "ok", message: `default workspace ${workspace} is in git repository ${git.version}` });
  else {
    const why = git.missing ? "git is not installed" : "it is not a git repository";
    report({
      check: "workspace", verdict: "warning",
      message: `default workspace ${workspace}: ${why}, so the phantom-completion check compares file times and reviewers get no diff`,
      remedy: `git init ${workspace} (or point workspace: at a clone)`,
    });
  }
}

/** The finding for `git --version`'s answer: git is there and at least MIN_GIT (git features need it), or not. */
export function gitFinding(answer: Answer): Finding {
  const need = `git features (a worktree per task, integration, checkpoints, rollback) need git ${MIN_GIT.join(".")} or later`;
  if (!("version" in answer)) {
    return { check: "git", verdict: "problem", message: answer.missing ? `git is not installed: ${need}` : `git does not answer: ${answer.problem}`, remedy: "install git (e.g. sudo apt-get install -y git)" };
  }
  const found = /(\d+)\.(\d+)(?:\.\d+)?/.exec(answer.version);
  if (!found) return { check: "git", verdict: "warning", message: `cannot read git's version from "${answer.version}": ${need}` };
  const [major, minor] = [Number(found[1]), Number(found[2])];
  if (major > MIN_GIT[0] || (major === MIN_GIT[0] && minor >= MIN_GIT[1])) return { check: "git", verdict: "ok", message: `git ${found[0]} (git features need ${MIN_GIT.join(".")} or later)` };
  return { check: "git", verdict: "problem", message: `git ${found[0]} is too old: ${need}`, remedy: `upgrade git to ${MIN_GIT.join(".")} or later` };
}

const isDirectory = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

export type Answer = { version: string } | { problem: string; missing: boolean };

/** Runs `<argv> --version`; its first line of output, or why it gave none (not found, timed out, failed). */
function probeVersion(argv: readonly string[]): Promise<Answer> {
  return run([...argv, "--version"], VERSION_TIMEOUT_MS);
}

/**
 * Runs argv (no shell) in its own process group, killed with the group after `timeoutMs`; the first non-empty
 * line of stdout as `version`, or the problem. Never rejects.
 */
function run(argv: readonly string[], timeoutMs: number): Promise<Answer> {
  const [command, ...args] = argv as [string, ...string[]];
  const shown = argv.join(" ");
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    const settle = (answer: Answer) => {
      clearTimeout(timer);
      resolve(answer);
    };
    child.stdout.on("data", (chunk: Buffer) => void (stdout = (stdout + chunk.toString()).slice(-64 * 1024)));
    child.stderr.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-64 * 1024)));
    const timer = setTimeout(() => {
      killGroup(child.pid);
      settle({ problem: `${shown} did not answer within ${timeoutMs / 1000}s`, missing: false });
    }, timeoutMs);
    child.once("error", (err: NodeJS.ErrnoException) => {
      const missing = err.code === "ENOENT";
      settle({ problem: missing ? `${command} not found${command.includes("/") ? "" : " on PATH"}` : `${command} cannot be started: ${err.message}`, missing });
    });
    child.once("close", (code, signal) => {
      const firstLine = stdout.split("\n").map((line) => line.trim()).find(Boolean);
      if (code === 0 && firstLine) return settle({ version: firstLine.slice(0, 200) });
      const tail = stderr.trim().split("\n").at(-1)?.slice(0, 300);
      const how = code === null ? `was killed by ${signal}` : code === 0 ? "printed nothing" : `exited with code ${code}`;
      settle({ problem: `${shown} ${how}${tail ? `: ${tail}` : ""}`, missing: false });
    });
  });
}

function killGroup(pid: number | undefined): void {
  try {
    if (pid) process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}
