// `baton questions [ID] [--all] [--json]`: the questions waiting for a person, newest first, across the features under
// way (or of feature ID), each with the command that answers it; --all adds the answered ones.
import { questionViews } from "../../../shared/client/questions.ts";
import { featureIdArg, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { dim, red } from "../render.ts";
import { answerCommand, collectQuestions, renderQuestions } from "../render-questions.ts";

/** Exit 0 listed (none is fine), 1 no such feature, no coordinator answered the feature list, or NATS unreachable. */
export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = args.positionals.length ? featureIdArg(args) : undefined;
  const all = args.values.all === true;
  return withNats(ctx, "baton-questions", false, async (nc) => {
    const views = await questionViews(nc, ctx.names, featureId);
    if (!views) {
      console.error(red(`no feature ${featureId} under prefix "${ctx.names.prefix}"`));
      return 1;
    }
    const rows = collectQuestions(views, all);
    if (args.values.json) {
      const json = rows.map((row) => ({ featureId: row.featureId, title: row.title, ...row.question, ...(row.question.state === "answered" ? {} : { command: answerCommand(row.featureId, row.question.questionId) }) }));
      console.log(JSON.stringify(json, null, 2));
    } else if (!rows.length) {
      const where = featureId ? `feature ${featureId}` : `the ${views.length} feature${views.length === 1 ? "" : "s"} under way`;
      console.log(dim(`no ${all ? "" : "open "}questions in ${where}`));
    } else {
      console.log(renderQuestions(rows));
    }
    return 0;
  });
}
