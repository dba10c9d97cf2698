// `baton cancel|pause|resume ID [--reason TEXT]` and `baton approve ID` / `baton reject ID --reason TEXT` (a plan
// awaiting approval): publishes a control message and waits for its effect.
import { userInfo } from "node:os";
import { controlFeature, type ControlOutcome, type ControlVerb } from "../../../shared/client/index.ts";
import { featureIdArg, timeoutSeconds, UsageError, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { bold, dim, green, red } from "../render.ts";

const VERBS: readonly ControlVerb[] = ["cancel", "pause", "resume", "approve", "reject"];

/** Exit 0 when the coordinator applied it (or it already held), 1 when it was rejected or nobody answered. */
export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  const verb = VERBS.find((v) => v === args.cmd);
  if (!verb) throw new UsageError(`unknown control verb "${args.cmd}"`);
  const reason = args.values.reason;
  if (verb === "reject" && !reason?.trim()) throw new UsageError('reject needs --reason TEXT (why the plan is rejected; it is recorded with it)');
  const by = args.values.by?.trim() || safeUser();
  const waitMs = timeoutSeconds(args) * 1000;
  return withNats(ctx, `baton-${verb}`, false, async (nc) => {
    const outcome = await controlFeature(nc, ctx.names, featureId, verb, { reason, by: by.slice(0, 200), waitMs });
    return report(featureId, verb, outcome, waitMs);
  });
}

/** Prints what became of the verb; returns the exit code. */
export function report(featureId: string, verb: ControlVerb, outcome: ControlOutcome, waitMs: number): number {
  switch (outcome.kind) {
    case "applied":
      console.log(green(appliedLine(featureId, verb, outcome.event)));
      if (verb === "approve") console.log(dim(`its tasks start now: \`baton watch ${featureId}\` follows them`));
      return 0;
    case "unchanged":
      console.log(`${featureId}: already ${outcome.state}`);
      return 0;
    case "rejected":
      console.error(red(`${featureId}: ${verb} rejected: ${outcome.error.message}`));
      return 1;
    case "no_answer":
      console.error(red(`${featureId}: no answer to ${verb} within ${Math.round(waitMs / 1000)}s (is a coordinator running? does the feature exist?)`));
      return 1;
  }
}

/** "f1: plan approved by alice at 2026-…"; for the other verbs "f1: pause applied". */
function appliedLine(featureId: string, verb: ControlVerb, event: Extract<ControlOutcome, { kind: "applied" }>["event"]): string {
  if (event.kind === "plan.approved") return `${featureId}: plan approved${event.by ? ` by ${bold(event.by)}` : ""} at ${event.at}`;
  if (event.kind === "plan.rejected") return `${featureId}: plan rejected${event.by ? ` by ${bold(event.by)}` : ""} at ${event.at}${event.reason ? `: ${event.reason}` : ""} (the feature is cancelled)`;
  return `${featureId}: ${verb} applied`;
}

/** The local user's name, for `by` in control messages ("unknown" when it cannot be read). */
export function safeUser(): string {
  try {
    return userInfo().username.slice(0, 200);
  } catch {
    return "unknown";
  }
}
