// Which config home a run of an agent CLI gets, and whether it continues the task's session there: the session's own
// home when it is free, else a free home the session is copied into (docs/agents.md, "Sessions").
import { hostname } from "node:os";
import type { AgentSession } from "../../../shared/protocol/index.ts";
import type { ExecContext } from "../runners/types.ts";
import { claimHome, listHomes, type HomeLease } from "./homes.ts";
import type { AgentDialect } from "./types.ts";

/**
 * The config home for one run, and the session to resume. With a session of this agent and host: the home holding
 * its newest copy when that home is free; when another run holds it, the lowest free home, into which the dialect
 * copies the session (then `resume` is its id too, and `copiedFrom` the busy home). Otherwise, or when the copy
 * fails (logged), the lowest free home and a fresh session.
 */
export async function homeForRun(dialect: AgentDialect, cwd: string, session: AgentSession | undefined, workspace: string, log: ExecContext["log"]): Promise<{ lease: HomeLease; resume?: string; copiedFrom?: string }> {
  const id = session && session.agent === dialect.agent && session.host === hostname() ? session.id : undefined;
  const newest = id === undefined ? undefined : await newestHolder(dialect, cwd, id, workspace);
  if (id !== undefined && newest !== undefined) {
    const own = await claimHome(cwd, dialect.agent, newest);
    if (own) return { lease: own, resume: id };
  }
  const lease = (await claimHome(cwd, dialect.agent))!;
  if (id === undefined || newest === undefined || !dialect.copySession) return { lease };
  try {
    await dialect.copySession(newest, lease.dir, id, workspace);
    return { lease, resume: id, copiedFrom: newest };
  } catch (err) {
    log.warn({ err, from: newest, home: lease.dir }, "could not copy the session out of the busy home that holds it; starting a fresh one");
    return { lease };
  }
}

/** The home of `agent` holding the newest copy of session `id` for `workspace` (by `sessionUpdatedAt`, else `hasSession`), if any. */
async function newestHolder(dialect: AgentDialect, cwd: string, id: string, workspace: string): Promise<string | undefined> {
  let best: { dir: string; at: number } | undefined;
  for (const dir of await listHomes(cwd, dialect.agent)) {
    const at = dialect.sessionUpdatedAt
      ? await dialect.sessionUpdatedAt(dir, id, workspace).catch(() => undefined)
      : (await dialect.hasSession?.(dir, id, workspace).catch(() => false)) ? 0 : undefined;
    if (at !== undefined && (!best || at > best.at)) best = { dir, at };
  }
  return best?.dir;
}
