// What an agent run takes from the role's definition: its prompt, model and tools. The operator's config wins
// (`roles.<r>.prompt`, `model`, `allowedTools`); else the role file of that name (shared/roles: Baton's roles/, the
// config's `planning.roles`, then the task's repository's .claude/agents/ and .baton/roles/). A role file never
// chooses the agent or the concurrency: what runs on this worker is the operator's choice, not a repository's.
import { readFile } from "node:fs/promises";
import type { ExecRoleConfig } from "../../../shared/config.ts";
import type { Logger } from "../../../shared/logging.ts";
import type { TaskAssigned } from "../../../shared/protocol/index.ts";
import { loadRoleCatalogue, type RoleCatalogue, type RoleFile } from "../../../shared/roles/index.ts";
import type { ExecutorDeps } from "../runners/types.ts";
import { workspaceFor } from "../workspace/resolve.ts";

/** What the run uses; undefined fields fall back to the executor's defaults. */
export interface RoleSetup {
  prompt: string | undefined;
  model: string | undefined;
  allowedTools: readonly string[] | undefined;
  /** The role file that supplied something, for logs. */
  file?: string | undefined;
}

export interface RoleSourceOptions {
  role: string;
  rc: Pick<ExecRoleConfig, "prompt" | "model" | "allowedTools">;
  deps: Pick<ExecutorDeps, "roleDirs" | "workspace" | "workspaceRoots" | "cwd">;
  /** Whether a role file's `tools` become the allowed tools: Claude Code only (the other CLIs name their tools otherwise). */
  useTools: boolean;
  /** Baton's roles folder (tests); default the shipped one. */
  shipped?: string | undefined;
  /** How long a workspace's catalogue is reused, so that edited role files are seen (default 5 s). */
  ttlMs?: number;
  now?: () => number;
}

export interface RoleSource {
  /**
   * The role's setup for a run of `task` in `runDir`. Rejects only when the config's prompt file cannot be read
   * (not kept: fixing the file fixes the next run); invalid role files are logged and the others used.
   */
  forRun(task: Pick<TaskAssigned, "checkout" | "featureId">, runDir: string, log: Logger): Promise<RoleSetup>;
}

export const ROLE_CATALOGUE_TTL_MS = 5000;

/** `model: inherit` (Claude Code's "the session's model") means no model of the file's own. */
const fileModel = (file: RoleFile | undefined): string | undefined => (file?.model && file.model !== "inherit" ? file.model : undefined);

/** The role setup source of one executor; caches each workspace's catalogue for `ttlMs`. */
export function createRoleSource(options: RoleSourceOptions): RoleSource {
  const { role, rc, deps } = options;
  const ttl = options.ttlMs ?? ROLE_CATALOGUE_TTL_MS;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; catalogue: RoleCatalogue }>();
  let configPrompt: Promise<string> | undefined;
  const readConfigPrompt = (path: string): Promise<string> =>
    (configPrompt ??= readFile(path, "utf8").catch((err: Error) => ((configPrompt = undefined), Promise.reject(err))));

  function catalogueFor(workspace: string, log: Logger): RoleCatalogue {
    const at = now();
    for (const [key, entry] of cache) if (at - entry.at >= ttl) cache.delete(key);
    const cached = cache.get(workspace);
    if (cached) return cached.catalogue;
    const catalogue = loadRoleCatalogue({ dirs: deps.roleDirs ?? [], workspace, shipped: options.shipped });
    if (catalogue.problems.length) log.warn({ problems: catalogue.problems.slice(0, 20), workspace }, "some role files did not load; the others are used");
    cache.set(workspace, { at, catalogue });
    return catalogue;
  }

  return {
    async forRun(task, runDir, log) {
      const file = catalogueFor(await repositoryOf(task, runDir, deps), log).roles[role];
      const prompt = rc.prompt ? await readConfigPrompt(rc.prompt) : file?.prompt || undefined;
      const allowedTools = rc.allowedTools ?? (options.useTools && file?.tools?.length ? file.tools : undefined);
      return { prompt, model: rc.model ?? fileModel(file), allowedTools, file: file?.source };
    },
  };
}

/**
 * Where the task's role files are: a git feature's repository (`checkout.repo`, confined to the workspace roots as
 * its checkout was), not the worktree the run happens in, so uncommitted edits to role files count; else the run's
 * own folder. Never rejects.
 */
async function repositoryOf(task: Pick<TaskAssigned, "checkout" | "featureId">, runDir: string, deps: RoleSourceOptions["deps"]): Promise<string> {
  if (!task.checkout) return runDir;
  const located = await workspaceFor({ workspace: task.checkout.repo, featureId: task.featureId }, deps);
  return "error" in located ? runDir : located.dir;
}
