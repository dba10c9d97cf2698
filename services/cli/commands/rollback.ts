// `baton rollback ID [--to COMMIT|TASK|base] [--cancel] [--reason TEXT] [--json]`: sends the control verb `rollback`
// and waits until a coordinator moved the feature's integration branch back (feature.rolled_back) or refused it.
import { controlFeature, type ControlOutcome, type StatusEvent } from "../../../shared/client/index.ts";
import type { RollbackRequest } from "../../../shared/protocol/control.ts";
import type { WireError } from "../../../shared/protocol/common.ts";
import { isToken } from "../../../shared/subjects.ts";
import { featureIdArg, timeoutSeconds, UsageError, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { bold, dim, green, red } from "../render.ts";
import { safeUser } from "./control.ts";

/** Files of a refusal listed before "and N more". */
const MAX_LISTED_FILES = 50;

/**
 * `--to` and `--cancel` as the verb's RollbackRequest. `--to` is "base", a commit (7-64 hex digits) or a task id: all
 * of them are tokens of at most 64 characters, which is what is checked here (the coordinator resolves which it is).
 */
export function rollbackRequest(args: CliArgs): RollbackRequest {
  const { to, cancel } = args.values;
  const request: RollbackRequest = {};
  if (to !== undefined) {
    if (!isToken(to)) throw new UsageError(`--to needs a checkpoint commit (7-64 hex digits), a task id or "base", not ${JSON.stringify(to)}`);
    request.to = to;
  }
  if (cancel) request.cancel = true;
  return request;
}

/** The files a ROLLBACK_REFUSED error names in its details (`{ files: string[] }`), or none. */
export function refusedFiles(error: WireError): string[] {
  const details = error.details as { files?: unknown } | undefined;
  const files = details && typeof details === "object" && Array.isArray(details.files) ? details.files : [];
  return files.filter((file): file is string => typeof file === "string");
}

/** What a person reads for each outcome: lines for stdout (`out`) and stderr (`err`), and the exit code. */
export function describeOutcome(featureId: string, outcome: ControlOutcome, waitSeconds: number): { out: string[]; err: string[]; code: number } {
  switch (outcome.kind) {
    case "applied":
      return { out: appliedLines(featureId, outcome.event), err: [], code: 0 };
    case "rejected": {
      const files = refusedFiles(outcome.error);
      const listed = files.slice(0, MAX_LISTED_FILES).map((file) => `  ${red("✗")} ${file}`);
      if (files.length > MAX_LISTED_FILES) listed.push(dim(`  … and ${files.length - MAX_LISTED_FILES} more`));
      const code = outcome.error.code ? ` (${outcome.error.code})` : "";
      const head = red(`${featureId}: rollback refused${code}: ${outcome.error.message}`);
      const hint = files.length ? [dim("nothing was changed; commit, move or discard these changes, then roll back again")] : [];
      return { out: [], err: [head, ...listed, ...hint], code: 1 };
    }
    case "unchanged":
    case "no_answer":
      return { out: [], err: [red(`${featureId}: no answer to rollback within ${waitSeconds}s (is a coordinator running? does the feature exist?)`)], code: 1 };
  }
}

/** "f1: rolled back to task spec's checkpoint 1a2b3c4d5e; pending again: impl, docs". */
function appliedLines(featureId: string, event: StatusEvent): string[] {
  if (event.kind !== "feature.rolled_back") return [green(`${featureId}: rollback applied`)];
  const where = event.toTask ? `task ${bold(event.toTask)}'s checkpoint` : "the feature's start";
  const tasks = event.tasks.length ? `${event.cancelled ? "cancelled" : "pending again"}: ${event.tasks.join(", ")}` : "no task was after it";
  const lines = [green(`${featureId}: rolled back to ${where} ${event.to.slice(0, 10)}`) + `; ${tasks}`];
  if (event.stopped.length) lines.push(dim(`stopped runs: ${event.stopped.map((run) => `${run.taskId} (attempt ${run.attempt})`).join(", ")}`));
  return lines;
}

/** Exit 0 when a coordinator rolled the feature back, 1 when it refused (the files are listed) or nobody answered. */
export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  const rollback = rollbackRequest(args);
  const waitSeconds = timeoutSeconds(args);
  return withNats(ctx, "baton-rollback", false, async (nc) => {
    const outcome = await controlFeature(nc, ctx.names, featureId, "rollback", { rollback, reason: args.values.reason, by: safeUser(), waitMs: waitSeconds * 1000 });
    const told = describeOutcome(featureId, outcome, waitSeconds);
    if (args.values.json) {
      const detail = outcome.kind === "applied" ? { event: outcome.event } : outcome.kind === "rejected" ? { error: outcome.error } : {};
      console.log(JSON.stringify({ featureId, outcome: outcome.kind === "unchanged" ? "no_answer" : outcome.kind, ...detail }));
    } else {
      for (const line of told.out) console.log(line);
    }
    for (const line of told.err) console.error(line);
    return told.code;
  });
}
