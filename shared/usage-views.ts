// Help texts of the commands that show a deployment (issue 14): `report` and `ui`. Plain data, spread into HELP
// (shared/usage.ts) after `status`.
const CONFIG = ["-c, --config FILE", "the config file (default: $BATON_CONFIG, else ./baton.config.yaml if present)"] as const;

export const VIEW_HELP = {
  report: {
    summary: "a feature's execution report: progress, streams, critical path and time left, blockers, gates, cost",
    usage: "report ID [--markdown] [--json] [--config FILE]",
    about: [
      "The execution status report of one feature, as `baton status` heads it: overall and per-stream progress, the",
      "critical path (the longest remaining chain, estimated from finished tasks' durations and role medians) with the",
      "time left, what blocks (questions, approval, locks, roles with no live worker, budgets), gates passed and failed",
      "per level (task, stream, feature), agents at work, usage and cost. --markdown prints a report to paste into a PR.",
    ].join("\n"),
    flags: [["--markdown", "print the report as Markdown"], ["--json", "print the report as JSON (ExecutionReport)"], CONFIG],
    exit: "0 completed, 1 failed or cancelled, or NATS unreachable, 2 rejected (or a usage error), 3 still going, 4 no such feature",
  },
  ui: {
    summary: "the web dashboard: features, live DAGs, events, gates, approvals, questions, workers and backlogs",
    usage: "ui [--port N] [--host ADDR] [--config FILE]",
    about: [
      "Serves the dashboard until Ctrl-C (config `ui:`; `baton up` starts one too and prints its URL). Live updates come",
      "from the status stream; every button sends the same control messages as the CLI. Binds to 127.0.0.1 by default;",
      "any other address needs a token (config `ui.token` or BATON_UI_TOKEN), asked of every request.",
    ].join("\n"),
    flags: [["--port N", "the port (default: config ui.port, else 7420; 0 = any free port)"], ["--host ADDR", "the address to bind (default 127.0.0.1)"], CONFIG],
    exit: "0 stopped on request, 1 could not serve (port taken, no token for a non-loopback address) or NATS unreachable, 2 usage error",
  },
} as const;
