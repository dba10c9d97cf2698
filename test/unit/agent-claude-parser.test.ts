// The Claude Code dialect: its stream-json parser against streams captured from the real `claude -p` (2.1.x) run
// against the scripted model server (test/fixtures/agents/claude), malformed and unknown lines, its invocation and
// its config home.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { claudeDialect, CLAUDE_DEFAULT_ALLOWED_TOOLS } from "../../services/worker/agents/claude.ts";
import type { AgentEvent } from "../../services/worker/agents/types.ts";

const fixture = (name: string): string[] => readFileSync(new URL(`../fixtures/agents/claude/${name}.jsonl`, import.meta.url), "utf8").split("\n").filter(Boolean);

/** Every event of a whole stream, and the lines the parser did not read (kept as logs by the executor). */
function parseAll(lines: string[]): { events: AgentEvent[]; unread: string[] } {
  const parser = claudeDialect.createParser();
  const events: AgentEvent[] = [];
  const unread: string[] = [];
  for (const line of lines) {
    const out = parser.line(line);
    if (out === undefined) unread.push(line);
    else events.push(...out);
  }
  return { events, unread };
}

const progress = (events: AgentEvent[]) => events.flatMap((event) => (event.kind === "progress" ? [event.progress] : []));
const finals = (events: AgentEvent[]) => events.flatMap((event) => (event.kind === "final" ? [event] : []));

describe("claude stream-json parser", () => {
  it("reads a run that writes a file and runs Bash: session, tool steps with files and commands, the final summary and usage", () => {
    const { events, unread } = parseAll(fixture("write-bash-success"));
    expect(unread).toEqual([]);
    const sessions = events.filter((event) => event.kind === "session");
    expect(sessions).toEqual([{ kind: "session", id: "f1edf023-9907-4b6d-9102-4585680557bd" }]);
    const steps = progress(events);
    expect(steps.find((step) => step.tool === "Write")).toMatchObject({ files: ["src/add.js"] });
    expect(steps.find((step) => step.tool === "Bash")).toMatchObject({ text: "node --test" });
    expect(steps.map((step) => step.text)).toContain("I will write it.");
    // running usage: one entry per distinct API message, never going down
    const inputs = steps.map((step) => step.usage!.inputTokens);
    expect(inputs).toEqual([...inputs].sort((left, right) => left - right));
    expect(inputs.at(-1)).toBeGreaterThan(inputs[0]!);
    expect(finals(events)).toEqual([{
      kind: "final", ok: true, summary: "Wrote src/add.js; node --test passes.",
      usage: { inputTokens: 9795, outputTokens: expect.any(Number), cacheReadTokens: 0, costUsd: expect.any(Number), turns: 3, model: "claude-opus-4-8[1m]" },
    }]);
  });

  it("an API error the CLI gave up on is a failed final event carrying the CLI's error text", () => {
    const [final] = finals(parseAll(fixture("api-error")).events);
    expect(final).toMatchObject({ ok: false, error: "API Error: 400 scripted bad request" });
  });

  it("a run that hit --max-turns fails with its subtype, and still reports its usage", () => {
    const [final] = finals(parseAll(fixture("max-turns")).events);
    expect(final).toMatchObject({ ok: false, error: expect.stringContaining("error_max_turns"), usage: { inputTokens: 3158, outputTokens: 46, turns: 2 } });
  });

  it("keeps lines it cannot read (not JSON, unknown types, wrong shapes) as logs, and reads tool results as nothing", () => {
    const parser = claudeDialect.createParser();
    for (const line of ["", "plain text", "{not json", "[1,2]", '{"type":"telemetry"}', '{"type":"assistant"}', '{"type":"result"}', '{"type":"system","subtype":"api_retry"}']) {
      expect(parser.line(line), line).toBeUndefined();
    }
    expect(parser.line('{"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"ok"}]}}')).toEqual([]);
  });

  it("never throws, whatever the line", () => {
    const parser = claudeDialect.createParser();
    const jsonish = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((value) => JSON.stringify({ type: "assistant", message: value })), fc.jsonValue().map((value) => JSON.stringify({ type: "result", subtype: "success", ...(typeof value === "object" && value && !Array.isArray(value) ? value : {}) })));
    fc.assert(fc.property(jsonish, (line) => {
      const out = parser.line(line);
      expect(out === undefined || Array.isArray(out)).toBe(true);
    }));
  });
});

describe("claude invocation", () => {
  const base = { prompt: "do it", cwd: "/ws", home: "/homes/0", extraArgs: [] as string[] };

  it("runs unattended by default: print mode, stream-json, acceptEdits with edit, Bash and read tools; prompt on stdin, home in CLAUDE_CONFIG_DIR", () => {
    const inv = claudeDialect.invocation(base);
    expect(inv.args).toEqual(["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits", "--allowedTools", CLAUDE_DEFAULT_ALLOWED_TOOLS.join(",")]);
    expect(CLAUDE_DEFAULT_ALLOWED_TOOLS).toEqual(expect.arrayContaining(["Bash", "Edit", "Write", "Read"]));
    expect(inv.stdin).toBe("do it");
    expect(inv.env).toEqual({ CLAUDE_CONFIG_DIR: "/homes/0" });
  });

  it("puts the operator's args first and passes model, permission mode, tools and the session to resume", () => {
    const inv = claudeDialect.invocation({ ...base, extraArgs: ["--max-turns", "40"], model: "claude-sonnet-4-5", permissionMode: "plan", allowedTools: ["Read"], resume: "abc-123" });
    expect(inv.args).toEqual(["--max-turns", "40", "-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "plan", "--allowedTools", "Read", "--model", "claude-sonnet-4-5", "--resume", "abc-123"]);
    expect(inv.args.join(" ")).not.toContain("do it");
  });

  it("plan mode (a planner run) without configured tools allows only the read tools: an allowed Bash would run commands in plan mode", () => {
    const inv = claudeDialect.invocation({ ...base, permissionMode: claudeDialect.readOnlyPermissionMode });
    expect(inv.args.slice(-4)).toEqual(["--permission-mode", "plan", "--allowedTools", "Read,Glob,Grep,LS"]);
  });
});

describe("claude config home", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const temp = () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-claude-home-"));
    dirs.push(dir);
    return dir;
  };

  it("is seeded from the operator's: settings copied, credentials linked (never copied), no API key written; idempotent", async () => {
    const operator = temp();
    writeFileSync(join(operator, "settings.json"), '{"model":"x"}');
    writeFileSync(join(operator, ".credentials.json"), '{"token":"secret-oauth"}');
    const home = join(temp(), "0");
    const env = { CLAUDE_CONFIG_DIR: operator, ANTHROPIC_API_KEY: "sk-ant-never-written" };
    await claudeDialect.seedHome(home, env);
    await claudeDialect.seedHome(home, env);
    expect(readFileSync(join(home, "settings.json"), "utf8")).toBe('{"model":"x"}');
    expect(lstatSync(join(home, ".credentials.json")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(home, ".credentials.json"))).toBe(join(operator, ".credentials.json"));
    for (const name of readdirSync(home)) {
      if (!lstatSync(join(home, name)).isSymbolicLink()) expect(readFileSync(join(home, name), "utf8")).not.toContain("sk-ant-never-written");
    }
  });

  it("knows the sessions a home holds", async () => {
    const home = temp();
    mkdirSync(join(home, "projects", "-tmp-ws"), { recursive: true });
    writeFileSync(join(home, "projects", "-tmp-ws", "5c1e0d8e-aaaa-bbbb-cccc-000000000001.jsonl"), "{}\n");
    expect(await claudeDialect.hasSession!(home, "5c1e0d8e-aaaa-bbbb-cccc-000000000001", "/tmp/ws")).toBe(true);
    expect(await claudeDialect.hasSession!(home, "5c1e0d8e-aaaa-bbbb-cccc-000000000002", "/tmp/ws")).toBe(false);
    expect(await claudeDialect.hasSession!(home, "../../etc/passwd", "/tmp/ws")).toBe(false);
  });
});
