// `baton cancel|pause|resume ID [--reason TEXT]`: publishes a control message and waits for its effect.
import { userInfo } from "node:os";
import { controlFeature, type ControlVerb } from "../../../shared/client/index.ts";
import { featureIdArg, timeoutSeconds, UsageError, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { green, red } from "../render.ts";

const VERBS: readonly ControlVerb[] = ["cancel", "pause", "resume"];

/** Exit 0 when the coordinator applied it (or it already held), 1 when it was rejected or nobody answered. */
export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  const verb = VERBS.find((v) => v === args.cmd);
  if (!verb) throw new UsageError(`unknown control verb "${args.cmd}"`);
  const waitMs = timeoutSeconds(args) * 1000;
  return withNats(ctx, `baton-${verb}`, false, async (nc) => {
    const outcome = await controlFeature(nc, ctx.names, featureId, verb, { reason: args.values.reason, by: safeUser(), waitMs });
    switch (outcome.kind) {
      case "applied":
        console.log(green(`${featureId}: ${verb} applied`));
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
  });
}

/** The local user's name, for `by` in control messages ("unknown" when it cannot be read). */
export function safeUser(): string {
  try {
    return userInfo().username.slice(0, 200);
  } catch {
    return "unknown";
  }
}
