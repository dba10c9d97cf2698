// Planning in the CLI (issue 13) as a person reads it and types it: the plan awaiting approval as the ordered list
// they approve, the planner's errors, questions with the command that answers them, streams, the new events' lines,
// and the new commands and `submit` flags as parsed.
import { describe, expect, it } from "vitest";
import { parseCommand, type CliCommand } from "../../services/cli/args.ts";
import { answerArgs } from "../../services/cli/commands/answer.ts";
import { checkLocally } from "../../services/cli/commands/submit.ts";
import { renderEvent, renderStatus } from "../../services/cli/render.ts";
import { planOrder } from "../../services/cli/render-plan.ts";
import { collectQuestions, renderQuestions } from "../../services/cli/render-questions.ts";
import { mergeRequest, parseParams, requestFlags } from "../../services/cli/request-flags.ts";
import { emptyView } from "../../shared/client/index.ts";
import { resolveAnswer } from "../../shared/client/questions.ts";
import { StatusEvent, type FeatureView, type ViewQuestion, type ViewTask } from "../../shared/protocol/index.ts";

const AT = "2026-01-01T12:00:00.000Z";
const task = (id: string, role: string, dependsOn: string[] = [], extra: Partial<ViewTask> = {}): ViewTask =>
  ({ id, role, title: `title of ${id}`, dependsOn, state: "waiting", attempt: 0, ...extra });
const question = (questionId: string, askedAt: string, extra: Partial<ViewQuestion> = {}): ViewQuestion =>
  ({ questionId, about: "task", question: `question ${questionId}?`, freeText: false, askedAt, state: "open", ...extra });
const view = (extra: Partial<FeatureView>): FeatureView => ({ ...emptyView("f1"), title: "Notifications", seq: 5, ...extra });
const ev = (body: Record<string, unknown>): StatusEvent => StatusEvent.parse({ type: "baton.v1.status_event", featureId: "f1", seq: 3, at: AT, ...body });
/** The rows of the plan table, in the order printed: [number, task id]. */
const planRows = (out: string) => [...out.matchAll(/^\s+(\d+)\.\s+(\S+)/gm)].map((m) => [m[1], m[2]]);

describe("the plan a person approves", () => {
  it("lists tasks so that each comes after what it depends on, keeping the given order among ready ones", () => {
    const tasks = [task("tests", "qa", ["backend", "frontend"]), task("backend", "backend", ["spec"]), task("schema", "database"), task("frontend", "frontend", ["spec"]), task("spec", "api", ["schema"])];
    expect(planOrder(tasks).map((t) => t.id)).toEqual(["schema", "spec", "backend", "frontend", "tests"]);
    // a dependency outside the list counts as met; a cycle comes last, as given
    expect(planOrder([task("b", "x", ["a"]), task("a", "x", ["b"]), task("c", "x", ["elsewhere"])]).map((t) => t.id)).toEqual(["c", "b", "a"]);
  });

  it("awaiting approval, status shows the numbered plan in order, its source, notes and the commands that decide it", () => {
    const out = renderStatus(view({
      state: "awaitingApproval",
      plan: { source: "template", template: "api-first", summary: "Schema first, then the API.", approval: "required", notes: ["gate coverage is not configured: left out"], readyAt: AT },
      tasks: [
        task("plan", "planner", [], { state: "completed", attempt: 1 }),
        task("tests", "qa", ["backend"], { gates: ["unit"] }),
        task("backend", "backend", ["database-gates"], { stream: "api" }),
        task("database-gates", "database", ["schema"], { stream: "database", streamGate: true, gates: ["migrate"] }),
        task("schema", "database", [], { stream: "database" }),
      ],
    }), new Map());
    expect(out).toMatch(/^f1\s+awaitingApproval\s+Notifications$/m);
    expect(out).toContain("plan from template api-first, ready 2026-01-01T12:00:00.000Z — awaits your approval: 4 tasks, in order");
    expect(planRows(out)).toEqual([["1", "schema"], ["2", "database-gates"], ["3", "backend"], ["4", "tests"]]);
    expect(out).toMatch(/^\s+2\.\s+database-gates\s+database\s+database\*\s+schema\(1\)\s+migrate\s+title of database-gates$/m);
    expect(out).toMatch(/^\s+4\.\s+tests\s+qa\s+-\s+backend\(3\)\s+unit\s+title of tests$/m);
    expect(out).toContain("(* runs its stream's gates)");
    expect(out).toContain("Schema first, then the API.");
    expect(out).toContain("note: gate coverage is not configured: left out");
    expect(out).toContain("stream gates: database: migrate");
    expect(out).toMatch(/approve: baton approve f1$/m);
    expect(out).toContain('reject:  baton reject f1 --reason "…"');
    expect(out).not.toMatch(/^TASK\s+ROLE\s+STATE/m);
  });

  it("while planning, status shows the goal and the planner's invalid attempts with their errors", () => {
    const out = renderStatus(view({
      state: "planning", tasks: [task("plan", "planner", [], { state: "running", attempt: 2, workerId: "planner-1" })],
      plan: { source: "planner", goal: "implement notifications", invalid: 1, errors: [{ path: "tasks[1].role", message: 'unknown role "ui"' }] },
    }), new Map());
    expect(out).toContain("goal: implement notifications");
    expect(out).toContain("planner run: running, attempt 2 on planner-1");
    expect(out).toContain("1 invalid plan so far; the latest one's errors:");
    expect(out).toContain('✗ tasks[1].role: unknown role "ui"');
  });

  it("once decided, status says who approved (or rejected) it and when", () => {
    const approved = renderStatus(view({ state: "executing", plan: { source: "planner", approvedBy: "alice", approvedAt: AT }, tasks: [task("a", "backend")] }), new Map());
    expect(approved).toContain("plan from the planner, approved by alice at 2026-01-01T12:00:00.000Z");
    const rejected = renderStatus(view({ state: "cancelled", plan: { source: "template", template: "bugfix", rejectedBy: "bob", rejectedAt: AT, rejectReason: "too big" }, tasks: [] }), new Map());
    expect(rejected).toContain("plan rejected by bob at 2026-01-01T12:00:00.000Z: too big");
  });
});

describe("questions", () => {
  const questions = [
    question("q1", "2026-01-01T12:00:00.000Z", { taskId: "api", state: "answered", answer: "JWT", by: "alice", via: "person", answeredAt: AT }),
    question("q2", "2026-01-01T12:05:00.000Z", { taskId: "db", options: ["Postgres", "SQLite"], default: "Postgres", timeoutAt: "2026-01-01T12:35:00.000Z", topic: "design" }),
    question("q3", "2026-01-01T12:10:00.000Z", { about: "escalation", taskId: "tests", state: "escalated", freeText: true }),
  ];

  it("`baton questions` lists the open ones newest first, each with its options, timeout and the command that answers it", () => {
    const other = view({ featureId: "f2", title: "Search", questions: [question("q1", "2026-01-01T12:07:00.000Z")] });
    const rows = collectQuestions([view({ questions }), other], false);
    expect(rows.map((row) => `${row.featureId} ${row.question.questionId}`)).toEqual(["f1 q3", "f2 q1", "f1 q2"]);
    const out = renderQuestions(rows);
    expect(out).toMatch(/^ {2}q2 {2}open {2}from task db, design, asked 2026-01-01T12:05:00.000Z$/m);
    expect(out).toContain("options: 1) Postgres  2) SQLite");
    expect(out).toContain('unanswered by 2026-01-01 12:35:00Z: takes its default "Postgres"');
    expect(out).toContain('answer: baton answer f1 q2 "…" (or the option\'s number: baton answer f1 q2 1)');
    expect(out).toMatch(/q3 {2}escalated {2}from task tests's failure/);
    expect(out).toContain('baton answer f2 q1 "…"');
    expect(collectQuestions([view({ questions })], true).map((row) => row.question.questionId)).toEqual(["q3", "q2", "q1"]);
    expect(renderQuestions(collectQuestions([view({ questions })], true))).toContain('answer: "JWT" by alice at 2026-01-01T12:00:00.000Z');
  });

  it("status shows an asking task's question in its row, the open questions, and how many were answered", () => {
    const out = renderStatus(view({
      state: "executing",
      tasks: [task("db", "database", [], { state: "asking", questionId: "q2", attempt: 1 }), task("api", "api", [], { state: "completed", attempt: 1 })],
      questions,
    }), new Map());
    expect(out).toMatch(/^db\s+database\s+asking\s+asks q2: question q2\?$/m);
    expect(out).toMatch(/^open questions$/m);
    expect(out).toContain('answer: baton answer f1 q3 "…"');
    expect(out).toContain("1 question answered (`baton questions f1 --all` lists them)");
  });

  it("an option's number stands for that option; an option in another case is that option; anything else is sent as typed", () => {
    const options = { options: ["Postgres", "SQLite", "2"] };
    expect(resolveAnswer(options, "1")).toEqual({ answer: "Postgres", via: "option" });
    expect(resolveAnswer(options, "2")).toEqual({ answer: "2" }); // an option itself wins over its number
    expect(resolveAnswer(options, " sqlite ")).toEqual({ answer: "SQLite", via: "case" });
    expect(resolveAnswer(options, "4")).toEqual({ answer: "4" });
    expect(resolveAnswer({}, "1")).toEqual({ answer: "1" });
    expect(resolveAnswer(undefined, "whatever")).toEqual({ answer: "whatever" });
  });
});

describe("streams", () => {
  it("status shows each stream's progress, state and gates with the latest results", () => {
    const out = renderStatus(view({
      state: "executing",
      maxParallel: 3,
      tasks: [
        task("schema", "database", [], { state: "completed", attempt: 1, stream: "database" }),
        task("seed", "database", ["schema"], { state: "completed", attempt: 1, stream: "database" }),
        task("db-gates", "database", ["seed"], { state: "completed", attempt: 1, stream: "database", streamGate: true, gates: ["migrate"], gateResults: [{ name: "migrate", passed: true, at: AT }] }),
        task("ui-1", "frontend", [], { state: "completed", attempt: 1, stream: "frontend" }),
        task("ui-2", "frontend", [], { state: "running", attempt: 1, stream: "frontend" }),
        task("ui-3", "frontend", ["ui-2"], { stream: "frontend" }),
      ],
    }), new Map());
    expect(out).toMatch(/^STREAM\s+DONE\s+STATE\s+GATES$/m);
    expect(out).toMatch(/^database\s+2\/2\s+passed\s+migrate ✓$/m);
    expect(out).toMatch(/^frontend\s+1\/3\s+running\s+-$/m);
  });
});

describe("the new events as `baton watch` prints them", () => {
  const line = (body: Record<string, unknown>) => renderEvent(ev(body), "0/3").replace(/^\S+ /, "");

  it("one readable line each, with the command to type where a person must act", () => {
    const tasks = [{ id: "a", role: "api", title: "A", dependsOn: [] }, { id: "b", role: "backend", title: "B", dependsOn: ["a"] }];
    expect(line({ kind: "plan.ready", source: "planner", tasks, approval: "required", attempt: 2 }))
      .toBe("plan ready 2 tasks from the planner (attempt 2) — awaits approval: baton approve f1 (baton status f1 shows it; baton reject f1 --reason \"…\")");
    expect(line({ kind: "plan.ready", source: "template", template: "bugfix", tasks, approval: "none" })).toBe("plan ready 2 tasks from template bugfix");
    const errors = [1, 2, 3, 4].map((n) => ({ path: `tasks[${n}]`, message: `bad ${n}` }));
    expect(line({ kind: "plan.invalid", attempt: 1, errors, willRetry: true }))
      .toBe("plan invalid attempt 1: 4 errors — tasks[1]: bad 1; tasks[2]: bad 2; tasks[3]: bad 3 (and 1 more) (sent back to the planner)");
    expect(line({ kind: "plan.approved", by: "alice" })).toBe("plan approved by alice");
    expect(line({ kind: "plan.rejected", by: "bob", reason: "too big" })).toBe("plan rejected by bob: too big");
    expect(line({ kind: "question.asked", questionId: "q1", taskId: "a", about: "task", question: "Which DB?", options: ["Postgres", "SQLite"], freeText: false }))
      .toBe('question q1 from task a: Which DB? [1) Postgres  2) SQLite] — answer: baton answer f1 q1 "…"');
    expect(line({ kind: "question.answered", questionId: "q1", taskId: "a", answer: "Postgres", by: "alice", via: "person" })).toBe('answered  q1 (task a): "Postgres" by alice');
    expect(line({ kind: "question.answered", questionId: "q1", answer: "Postgres", via: "timeout" })).toBe('answered  q1: "Postgres" (its default: no answer in time)');
    expect(line({ kind: "question.escalated", questionId: "q1", taskId: "a", reason: "no answer in 30m" })).toBe('escalated q1 (task a): no answer in 30m — still open: baton answer f1 q1 "…"');
  });
});

describe("the new commands and flags as parsed", () => {
  const usageError = (cmd: CliCommand, argv: string[]) => {
    try {
      parseCommand(cmd, argv);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`${cmd} ${argv.join(" ")} was accepted`);
  };

  it("approve, reject, questions and answer take their own flags and positionals", () => {
    expect(parseCommand("approve", ["f1", "--by", "alice"]).values.by).toBe("alice");
    expect(parseCommand("reject", ["f1", "--reason", "too big"]).values.reason).toBe("too big");
    expect(parseCommand("questions", ["--all", "--json"]).values).toMatchObject({ all: true, json: true });
    expect(parseCommand("answer", ["f1", "q1", "use Postgres"]).positionals).toEqual(["f1", "q1", "use Postgres"]);
    expect(usageError("answer", ["f1", "q1", "use", "Postgres"])).toBe('unexpected argument "Postgres" (answer takes three: quote the answer, e.g. "use Postgres")');
    expect(usageError("approve", ["f1", "--reason", "x"])).toBe("approve does not take --reason");
  });

  it("answer's question id and text: `-` reads stdin, and a missing or malformed one is a usage error", () => {
    const args = (...positionals: string[]) => parseCommand("answer", positionals);
    expect(answerArgs(args("f1", "q2", "2"))).toEqual({ questionId: "q2", typed: "2" });
    expect(answerArgs(args("f1", "q2", "-"), () => "a long answer\n")).toEqual({ questionId: "q2", typed: "a long answer" });
    expect(() => answerArgs(args("f1", "2", "x"))).toThrow('"2" is not a question id (q1, q2, …)');
    expect(() => answerArgs(args("f1", "q1"))).toThrow(/missing the answer/);
    expect(() => answerArgs(args("f1", "q1", "  "))).toThrow("the answer is empty");
  });

  it("submit builds a request from flags: repeated --param makes a list, --goal implies plan auto, the workspace is absolute", () => {
    const values = parseCommand("submit", [
      "--template", "refactor", "--param", "modules=auth", "--param", "modules=billing", "--param", "target=src/new", "--param", "only[]=one",
      "--skip", "docs", "--step-role", "analyse=reviewer", "--approval", "--workspace", "app", "--max-parallel", "3",
    ]).values;
    expect(requestFlags(values, "/home/me")).toEqual({
      template: "refactor", parameters: { modules: ["auth", "billing"], target: "src/new", only: ["one"] }, skip: ["docs"],
      stepRoles: { analyse: "reviewer" }, approval: "required", workspace: "/home/me/app", maxParallel: 3,
    });
    const planned = requestFlags(parseCommand("submit", ["--goal", "implement a notification system with real-time updates", "--approval"]).values, "/x");
    expect(planned).toEqual({ goal: "implement a notification system with real-time updates", plan: "auto", approval: "required" });
    expect(mergeRequest(undefined, planned)).toMatchObject({ title: "implement a notification system with real-time updates", plan: "auto" });
    expect(mergeRequest({ title: "From file", tasks: [] }, { approval: "required" })).toEqual({ title: "From file", tasks: [], approval: "required" });
    expect(parseParams(["query=a=b"])).toEqual({ query: "a=b" });
    expect(() => parseParams(["noequals"])).toThrow('--param takes KEY=VALUE, not "noequals"');
    expect(() => requestFlags(parseCommand("submit", ["--plan", "manual"]).values, "/x")).toThrow(/--plan takes only "auto"/);
    expect(() => mergeRequest(undefined, { approval: "required" })).toThrow(/missing the request FILE/);
  });

  it("local validation lets a template request through unexpanded (its extra tasks may follow its steps) and still checks the rest", () => {
    const limits = { roles: ["backend", "qa", "planner"], maxBytes: 100_000 };
    const templated = checkLocally({ title: "T", template: "api-first", parameters: { entity: "todo" }, tasks: [{ id: "extra", role: "qa", title: "E2E", dependsOn: ["backend"] }] }, limits);
    expect(templated.ok && templated.request).toMatchObject({ template: "api-first", tasks: [{ id: "extra", dependsOn: ["backend"] }] });
    expect(checkLocally({ title: "T", plan: "auto", goal: "build it", approval: "required" }, limits).ok).toBe(true);
    const wrong = checkLocally({ title: "T", goal: "build it", tasks: [{ id: "a", role: "backend", title: "A" }] }, limits);
    expect(wrong.ok ? [] : wrong.errors.map((issue) => issue.path)).toContain("goal");
  });
});
