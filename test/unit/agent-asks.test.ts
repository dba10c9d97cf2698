// Reading a question or a plan from an agent's answer: the fenced json block ending a CLI agent's final message
// (asks.ts, cli-executor.ts withAsked) and the `question`/`plan` fields of the llm executor's JSON answer.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { askedInText } from "../../services/worker/agents/asks.ts";
import { withAsked } from "../../services/worker/agents/cli-executor.ts";
import { parseLlmOutput } from "../../services/worker/agents/llm/output.ts";

const fence = (value: unknown) => "```json\n" + JSON.stringify(value, null, 2) + "\n```";
const log = pino({ level: "silent" });

describe("askedInText", () => {
  it("a question block ending the message is the question", () => {
    const text = `I need a decision before going on.\n\n${fence({ question: { question: "Keep the old endpoint?", options: ["keep", "remove"], default: "keep" } })}`;
    expect(askedInText(text)).toEqual({ question: { question: "Keep the old endpoint?", options: ["keep", "remove"], default: "keep" } });
  });

  it("accepts a bare question string and a message that is only the JSON object", () => {
    expect(askedInText(fence({ question: "Which database?" }))).toEqual({ question: { question: "Which database?" } });
    expect(askedInText(JSON.stringify({ question: { question: "Which port?" } }))).toEqual({ question: { question: "Which port?" } });
  });

  it("only the last fenced block counts: quoted JSON earlier in the message, or bare JSON in prose, is no question", () => {
    const quoted = `The fixture holds ${fence({ question: { question: "2 + 2?" } })}\n\nDone; see below.\n${fence({ files: ["a.js"] })}`;
    expect(askedInText(quoted)).toEqual({});
    expect(askedInText('I wrote { "question": { "question": "quiz?" } } into the seed data.')).toEqual({});
    expect(askedInText("Added src/add.js.")).toEqual({});
  });

  it("an invalid question block gives problems naming the field, never a question", () => {
    const asked = askedInText(fence({ question: { question: "", options: [] } }));
    expect(asked.question).toBeUndefined();
    expect(asked.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^question\.question: /), expect.stringMatching(/^question\.options: /)]));
  });

  it("a planner's plan: the wrapped block, a bare object in prose, or a plan given without its wrapper", () => {
    const plan = { summary: "two tasks", tasks: [{ id: "a", role: "backend", title: "A" }] };
    expect(askedInText(`Here is the plan.\n${fence({ plan })}`, { planner: true })).toEqual({ plan });
    expect(askedInText(`Plan: ${JSON.stringify({ plan })} — that is all.`, { planner: true })).toEqual({ plan });
    expect(askedInText(fence({ template: "api-first", parameters: { resource: "users" } }), { planner: true })).toEqual({ plan: { template: "api-first", parameters: { resource: "users" } } });
    // an invalid plan is passed on as it is: the coordinator checks it and tells the planner what is wrong
    expect(askedInText(fence({ plan: { tasks: "not a list" } }), { planner: true })).toEqual({ plan: { tasks: "not a list" } });
  });
});

describe("withAsked (a CLI agent's completed run)", () => {
  const completed = (summary: string) => ({ outcome: "completed" as const, exitCode: 0, summary });

  it("a question stays a completed run with `question` set", () => {
    const out = withAsked(completed(`Need input.\n${fence({ question: { question: "Breaking change OK?" } })}`), false, { log });
    expect(out).toMatchObject({ outcome: "completed", question: { question: "Breaking change OK?" } });
  });

  it("an invalid question block fails the run INVALID_OUTPUT saying what is wrong", () => {
    const out = withAsked(completed(fence({ question: { question: "x", options: "a,b" } })), false, { log });
    expect(out).toMatchObject({ outcome: "failed", error: { code: "INVALID_OUTPUT", message: expect.stringContaining("question.options") } });
  });

  it("keeps a plan only on a planner run", () => {
    const text = `Plan below.\n${fence({ plan: { tasks: [] } })}`;
    expect(withAsked(completed(text), true, { log })).toMatchObject({ outcome: "completed", plan: { tasks: [] } });
    expect(withAsked(completed(text), false, { log })).not.toHaveProperty("plan");
    expect(withAsked(completed("No plan, sorry."), true, { log })).toEqual(completed("No plan, sorry."));
  });
});

describe("the llm executor's answer", () => {
  it("takes `question` and `plan` fields, and checks the question", () => {
    const ok = parseLlmOutput(JSON.stringify({ summary: "need a decision", question: { question: "Which units?", options: ["metric", "imperial"] } }));
    expect(ok).toMatchObject({ ok: true, output: { question: { question: "Which units?", options: ["metric", "imperial"] } } });
    const planned = parseLlmOutput(JSON.stringify({ summary: "planned", plan: { template: "bugfix" } }));
    expect(planned).toMatchObject({ ok: true, output: { plan: { template: "bugfix" } } });
    const bad = parseLlmOutput(JSON.stringify({ summary: "x", question: { options: ["a"] } }));
    expect(bad).toMatchObject({ ok: false, problems: [expect.stringContaining("question.question")] });
  });
});
