// The Codex dialect: its `exec --json` parser against streams captured from the real `codex exec` (0.171) run
// against the scripted model server (test/fixtures/agents/codex), malformed and unknown lines, its invocation
// and its config home; and the Responses API dialect of the scripted model server that those runs used.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { readResponses } from "../../services/model-server/openai-responses.ts";
import { codexDialect } from "../../services/worker/agents/codex.ts";
import type { AgentEvent } from "../../services/worker/agents/types.ts";

const fixture = (name: string): string[] => readFileSync(new URL(`../fixtures/agents/codex/${name}.jsonl`, import.meta.url), "utf8").split("\n").filter(Boolean);

/** Every event of a whole stream (with the parser's end event), and the lines it did not read (kept as logs). */
function parseAll(lines: string[]): { events: AgentEvent[]; unread: string[] } {
  const parser = codexDialect.createParser();
  const events: AgentEvent[] = [];
  const unread: string[] = [];
  for (const line of lines) {
    const out = parser.line(line);
    if (out === undefined) unread.push(line);
    else events.push(...out);
  }
  const last = parser.end?.();
  if (last) events.push(last);
  return { events, unread };
}

const progress = (events: AgentEvent[]) => events.flatMap((event) => (event.kind === "progress" ? [event.progress] : []));
const finals = (events: AgentEvent[]) => events.flatMap((event) => (event.kind === "final" ? [event] : []));

describe("codex exec --json parser", () => {
  it("reads a run that applies a patch and runs a command: session, one step per item with tool and files, summary, usage", () => {
    const { events, unread } = parseAll(fixture("write-and-run"));
    expect(unread).toEqual([]);
    expect(events.filter((event) => event.kind === "session")).toEqual([{ kind: "session", id: "01a2208e-6db6-7e02-a44b-4ae5d9591874" }]);
    const steps = progress(events);
    const changes = steps.filter((step) => step.tool === "file_change");
    expect(changes).toEqual([{ tool: "file_change", files: ["/tmp/h2/ws/src/add.js"], text: "add /tmp/h2/ws/src/add.js" }]);
    const commands = steps.filter((step) => step.tool === "command_execution");
    expect(commands).toHaveLength(1);
    expect(commands[0]!.text).toContain("node -e");
    expect(steps.map((step) => step.text)).toContain("I'll write the file.");
    // Codex reports input tokens with the cached ones included; Baton's inputTokens excludes them
    expect(finals(events)).toEqual([{
      kind: "final", ok: true, summary: "Added src/add.js with add(a, b).", usage: { inputTokens: 14782, outputTokens: 169, cacheReadTokens: 100 },
    }]);
  });

  it("a resumed run keeps the session id it continues and ends with its own final message", () => {
    const { events } = parseAll(fixture("resume"));
    expect(events[0]).toEqual({ kind: "session", id: "01a2208e-6db6-7e02-a44b-4ae5d9591874" });
    expect(progress(events).find((step) => step.tool === "file_change")?.files).toEqual(["/tmp/h2/ws/src/sub.js"]);
    expect(finals(events)).toMatchObject([{ ok: true, summary: "Fixed: added src/sub.js." }]);
  });

  it("an API error the CLI gave up on is one failed final event carrying the API's message", () => {
    const finalEvents = finals(parseAll(fixture("api-error")).events);
    expect(finalEvents).toEqual([{ kind: "final", ok: false, error: "scripted bad request (invalid_request)" }]);
  });

  it("a retried request (`error` Reconnecting…) is progress, not the end: the run still succeeds", () => {
    const { events } = parseAll(fixture("retry-429"));
    expect(progress(events).some((step) => step.text?.startsWith("error: Reconnecting... 1/5"))).toBe(true);
    expect(finals(events)).toMatchObject([{ ok: true, summary: "after 429" }]);
  });

  it("a failed command is reported as a failed step, and the turn's own end decides success", () => {
    const { events } = parseAll(fixture("failing-tools"));
    const commands = progress(events).filter((step) => step.tool === "command_execution");
    expect(commands.map((step) => step.text)).toEqual(["/bin/bash -lc 'echo nope >&2; exit 3'", "failed: /bin/bash -lc 'echo nope >&2; exit 3'"]);
    expect(finals(events)).toMatchObject([{ ok: true, summary: "The command failed with exit code 3." }]);
  });

  it("keeps malformed and unknown lines as logs, never crashes, and a stream that ends on an error fails with it", () => {
    const { events, unread } = parseAll(fixture("malformed"));
    expect(unread).toEqual([
      "WARNING: proceeding, even though we could not create PATH aliases",
      '{"type":"turn.started"',
      '{"type":"thread.renamed","name":"something new"}',
      '{"type":"item.completed","item":{"id":"item_0","type":"collab_tool_call","tool":"spawn_agent"}}',
      "[1,2,3]",
      '{"type":"item.completed"}',
      '{"type":"turn.completed","usage":"lots"}',
    ]);
    expect(progress(events).map((step) => step.text)).toEqual([
      expect.stringContaining("warning: Model metadata"), "Still here.", "error: stream disconnected before completion: connection reset",
    ]);
    expect(finals(events)).toEqual([{ kind: "final", ok: false, error: "stream disconnected before completion: connection reset" }]);
  });

  it("a stream without a turn end or an error gives no final event (the exit status decides)", () => {
    expect(parseAll(fixture("write-and-run").slice(0, 4)).events.some((event) => event.kind === "final")).toBe(false);
  });

  it("never throws, whatever the line", () => {
    const parser = codexDialect.createParser();
    const asObject = (value: unknown) => (typeof value === "object" && value && !Array.isArray(value) ? value : {});
    const types = fc.constantFrom("thread.started", "turn.completed", "turn.failed", "error", "item.started", "item.completed");
    const jsonish = fc.oneof(fc.string(), fc.json(), fc.tuple(types, fc.jsonValue()).map(([type, value]) => JSON.stringify({ ...asObject(value), type })),
      fc.tuple(fc.constantFrom("file_change", "command_execution", "todo_list", "mcp_tool_call", "agent_message"), fc.jsonValue())
        .map(([type, value]) => JSON.stringify({ type: "item.completed", item: { ...asObject(value), type } })));
    fc.assert(fc.property(jsonish, (line) => {
      const out = parser.line(line);
      expect(out === undefined || Array.isArray(out)).toBe(true);
    }));
    expect(() => parser.end?.()).not.toThrow();
  });
});

describe("codex invocation", () => {
  const base = { prompt: "do it", cwd: "/ws", home: "/homes/0", extraArgs: [] as string[] };

  it("runs `codex exec --json` unattended in the workspace-write sandbox, prompt on stdin, CODEX_HOME = the run's home", () => {
    const call = codexDialect.invocation({ ...base, model: "gpt-5.5", extraArgs: ["-c", "model_provider=baton"] });
    expect(call).toEqual({
      args: ["exec", "-c", "model_provider=baton", "--json", "--skip-git-repo-check", "--sandbox", "workspace-write", "-c", 'approval_policy="never"', "--model", "gpt-5.5", "-"],
      stdin: "do it",
      env: { CODEX_HOME: "/homes/0" },
    });
  });

  it("continues a session with `resume <id>` after the exec options, and follows the operator's permission mode", () => {
    const resumed = codexDialect.invocation({ ...base, resume: "01a2-xyz", permissionMode: "danger-full-access" });
    expect(resumed.args).toEqual(["exec", "--json", "--skip-git-repo-check", "--sandbox", "danger-full-access", "-c", 'approval_policy="never"', "resume", "01a2-xyz", "-"]);
    const bypass = codexDialect.invocation({ ...base, permissionMode: "bypass" });
    expect(bypass.args).toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(bypass.args).not.toContain("--sandbox");
  });
});

describe("codex config home", () => {
  const root = mkdtempSync(join(tmpdir(), "baton-codex-home-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("is seeded from the operator's CODEX_HOME (config, instructions, credentials), idempotently, keeping a refreshed login", async () => {
    const operator = join(root, "operator");
    mkdirSync(operator);
    writeFileSync(join(operator, "config.toml"), 'model = "gpt-5.5"\n');
    writeFileSync(join(operator, "auth.json"), '{"OPENAI_API_KEY":null,"tokens":"old"}');
    const home = join(root, "homes", "0");
    await codexDialect.seedHome(home, { CODEX_HOME: operator, HOME: "/nonexistent" });
    expect(readFileSync(join(home, "config.toml"), "utf8")).toBe('model = "gpt-5.5"\n');
    expect(statSync(join(home, "auth.json")).mode & 0o777).toBe(0o600);
    writeFileSync(join(home, "auth.json"), '{"tokens":"refreshed by a run"}');
    await codexDialect.seedHome(home, { CODEX_HOME: operator });
    expect(readFileSync(join(home, "auth.json"), "utf8")).toBe('{"tokens":"refreshed by a run"}');
    writeFileSync(join(operator, "auth.json"), '{"tokens":"operator logged in again"}');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(operator, "auth.json"), later, later);
    await codexDialect.seedHome(home, { CODEX_HOME: operator });
    expect(readFileSync(join(home, "auth.json"), "utf8")).toBe('{"tokens":"operator logged in again"}');
  });

  it("has a session when its rollout file is there and was recorded in the same workspace", async () => {
    const home = join(root, "homes", "1");
    const day = join(home, "sessions", "2026", "11", "28");
    mkdirSync(day, { recursive: true });
    const id = "01a2208e-6db6-7e02-a44b-4ae5d9591874";
    writeFileSync(join(day, `rollout-2026-11-28T05-07-01-${id}.jsonl`), `${JSON.stringify({ type: "session_meta", payload: { id, cwd: root } })}\n{"type":"x"}\n`);
    expect(await codexDialect.hasSession!(home, id, root)).toBe(true);
    expect(await codexDialect.hasSession!(home, id, join(root, "elsewhere"))).toBe(false);
    expect(await codexDialect.hasSession!(home, "01a2208e-0000-0000-0000-000000000000", root)).toBe(false);
    expect(await codexDialect.hasSession!(home, "../../etc/passwd", root)).toBe(false);
  });
});

describe("scripted model server: Responses requests", () => {
  const user = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });

  it("counts the responses already in the input once each, however parallel tool outputs are interleaved", () => {
    const body = {
      model: "gpt-5.5", stream: true, tools: [{ type: "custom", name: "apply_patch" }, { type: "function", name: "exec_command" }],
      input: [
        { type: "message", role: "developer", content: [{ type: "input_text", text: "rules" }] }, user("<environment_context/>"), user("write add"),
        { type: "message", id: "msg_resp_abc_1", role: "assistant", content: [{ type: "output_text", text: "ok" }] },
        { type: "function_call", id: "fc_resp_abc_1_0", call_id: "c1", name: "exec_command", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "done" },
        { type: "function_call", id: "fc_resp_abc_1_1", call_id: "c2", name: "exec_command", arguments: "{}" },
        { type: "function_call_output", call_id: "c2", output: "done" },
        { type: "custom_tool_call", call_id: "c3", name: "apply_patch", input: "*** Begin Patch" },
        { type: "custom_tool_call_output", call_id: "c3", output: "ok" },
      ],
    };
    expect(readResponses(body)).toMatchObject({ turn: 2, prompt: "<environment_context/>\nwrite add", stream: true, model: "gpt-5.5", customTools: ["apply_patch"] });
    expect(readResponses({ input: "hello" })).toMatchObject({ turn: 0, prompt: "hello", stream: false });
    expect(() => readResponses({ model: "x" })).toThrow(/input/);
  });
});
