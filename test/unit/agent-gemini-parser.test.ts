// The Gemini CLI dialect: its stream-json parser against streams captured from the real CLI (0.61, run against the
// scripted model server; test/fixtures/agents/gemini/), its invocation, config-home seeding and session lookup.
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { geminiDialect } from "../../services/worker/agents/gemini.ts";
import type { AgentEvent } from "../../services/worker/agents/types.ts";

const fixture = (name: string): string[] => readFileSync(new URL(`../fixtures/agents/gemini/${name}`, import.meta.url), "utf8").split("\n").filter(Boolean);

/** Every event of a stream, and the lines the parser could not read. */
function parse(lines: string[]): { events: AgentEvent[]; unread: string[] } {
  const parser = geminiDialect.createParser();
  const events: AgentEvent[] = [];
  const unread: string[] = [];
  for (const line of lines) {
    const got = parser.line(line);
    if (got === undefined) unread.push(line);
    else events.push(...got);
  }
  const end = parser.end?.();
  if (end) events.push(end);
  return { events, unread };
}

const progress = (events: AgentEvent[]) => events.flatMap((event) => (event.kind === "progress" ? [event.progress] : []));
const finals = (events: AgentEvent[]) => events.filter((event) => event.kind === "final");

describe("the gemini stream-json parser", () => {
  it("reads a run that writes a file and runs a shell command: session, tools, files, summary, usage", () => {
    const { events, unread } = parse(fixture("write-and-shell.jsonl"));
    expect(unread).toEqual([]);
    expect(events[0]).toEqual({ kind: "session", id: "cf860a32-b81d-4be3-adf8-615565a2675d" });
    const tools = progress(events).filter((step) => step.tool);
    expect(tools).toEqual([
      { tool: "write_file", files: ["src/add.js"], text: "src/add.js" },
      { tool: "run_shell_command", text: 'node -e "console.log(1+1)"' },
    ]);
    expect(finals(events)).toEqual([{
      kind: "final", ok: true, summary: "Added src/add.js with an add function.",
      usage: { inputTokens: 12487, outputTokens: 63, cacheReadTokens: 30, model: "gemini-2.5-pro" },
    }]);
  });

  it("reads an API error as a failed final event carrying the CLI's message", () => {
    const { events } = parse(fixture("api-error.jsonl"));
    const [final] = finals(events);
    expect(final).toMatchObject({ kind: "final", ok: false });
    expect(final && final.kind === "final" ? final.error : "").toContain("API key not valid");
    expect(final && final.kind === "final" ? final.usage : "x").toBeUndefined(); // no tokens used: no usage
  });

  it("reports a failed tool call, and names the model that used the most tokens when the CLI routed (--model auto)", () => {
    const { events } = parse(fixture("tool-error-auto-model.jsonl"));
    expect(progress(events)).toContainEqual({ tool: "read_file", text: "failed: File not found: /tmp/h3/ws4/missing.txt" });
    expect(finals(events)).toEqual([{
      kind: "final", ok: true, summary: "The file does not exist, so there is nothing to change.",
      usage: { inputTokens: 15657, outputTokens: 47, cacheReadTokens: 0, model: "gemini-3.8-flash" },
    }]);
  });

  it("leaves malformed and unknown lines unread, reports a session once, and ends on the text before the last tool", () => {
    const { events, unread } = parse(fixture("malformed-and-unknown.jsonl"));
    expect(unread).toEqual([
      "Loaded cached credentials.",
      expect.stringContaining('"telemetry"'),
      expect.stringContaining('"tool_id":"broken"'),
      expect.stringContaining('"tool_result","timestamp":"2026-11-28T05:10:00.00'),
      "[1, 2, 3]",
      "null",
    ]);
    expect(events.filter((event) => event.kind === "session")).toHaveLength(1);
    expect(progress(events)).toContainEqual({ tool: "replace", files: ["/work/ws/src/add.js"], text: "/work/ws/src/add.js" });
    expect(progress(events)).toContainEqual({ text: "warning: Loop detected, stopping execution" });
    expect(finals(events)).toEqual([{ kind: "final", ok: true, summary: "Writing the file.", usage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 20, model: "gemini-2.5-pro" } }]);
  });

  it("never throws, whatever a line holds", () => {
    const parser = geminiDialect.createParser();
    const line = fc.oneof(fc.string(), fc.json(), fc.record({ type: fc.constantFrom("init", "message", "tool_use", "tool_result", "error", "result"), role: fc.anything(), content: fc.anything(), parameters: fc.anything(), stats: fc.anything(), status: fc.anything() }).map((value) => JSON.stringify(value)));
    fc.assert(fc.property(line, (text) => {
      const got = parser.line(text);
      expect(got === undefined || Array.isArray(got)).toBe(true);
    }));
  });
});

describe("the gemini invocation", () => {
  const base = { prompt: "# Your task: add", cwd: "/ws", home: "/homes/0", extraArgs: ["--debug"] };

  it("runs headless with the prompt on stdin, stream-json, the unattended default and its own config home", () => {
    const call = geminiDialect.invocation({ ...base, model: "gemini-2.5-pro", resume: "d4ec08bc-f7de-4b98-a11d-634ff080be86" });
    expect(call.stdin).toBe("# Your task: add");
    expect(call.args).toEqual([
      "--debug", "--output-format", "stream-json", "--skip-trust", "--approval-mode", "auto_edit", "--allowed-tools", "run_shell_command",
      "--model", "gemini-2.5-pro", "--resume", "d4ec08bc-f7de-4b98-a11d-634ff080be86", "--prompt", "",
    ]);
    expect(call.args.join(" ")).not.toContain("Your task");
    expect(call.env).toEqual({ GEMINI_CLI_HOME: "/homes/0", GEMINI_CLI_NO_RELAUNCH: "true" });
  });

  it("takes the operator's approval mode and tools instead", () => {
    expect(geminiDialect.invocation({ ...base, permissionMode: "yolo" }).args).not.toContain("--allowed-tools");
    const args = geminiDialect.invocation({ ...base, permissionMode: "default", allowedTools: ["write_file", "run_shell_command(git)"] }).args;
    expect(args.join(" ")).toContain("--approval-mode default --allowed-tools write_file --allowed-tools run_shell_command(git)");
  });

  it("read-only plan mode (a planner run) gets no shell unless the role allows it", () => {
    const args = geminiDialect.invocation({ ...base, permissionMode: geminiDialect.readOnlyPermissionMode }).args;
    expect(args.join(" ")).toContain("--approval-mode plan --prompt");
    expect(args).not.toContain("--allowed-tools");
  });
});

describe("the gemini config home", () => {
  const dirs: string[] = [];
  const temp = async () => {
    const dir = await mkdtemp(join(tmpdir(), "baton-gemini-home-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function operator(settings?: object) {
    const home = await temp();
    await mkdir(join(home, ".gemini"));
    if (settings) await writeFile(join(home, ".gemini", "settings.json"), JSON.stringify(settings));
    await writeFile(join(home, ".gemini", "oauth_creds.json"), '{"refresh_token":"r"}');
    await writeFile(join(home, ".gemini", "GEMINI.md"), "Be brief.");
    await writeFile(join(home, ".gemini", ".env"), "GEMINI_API_KEY=from-dotenv");
    return home;
  }

  it("seeds from the operator's .gemini: settings copied, credentials linked, the .env file left out", async () => {
    const home = await operator({ ui: { theme: "ANSI" }, security: { auth: { selectedType: "oauth-personal" } } });
    const slot = await temp();
    const env = { HOME: home, GEMINI_API_KEY: "sk-secret-123", GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:9" };
    await geminiDialect.seedHome(slot, env);
    await geminiDialect.seedHome(slot, env); // idempotent
    const dot = join(slot, ".gemini");
    expect(JSON.parse(await readFile(join(dot, "settings.json"), "utf8"))).toEqual({ ui: { theme: "ANSI" }, security: { auth: { selectedType: "oauth-personal" } } });
    expect(await readFile(join(dot, "GEMINI.md"), "utf8")).toBe("Be brief.");
    expect((await lstat(join(dot, "oauth_creds.json"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dot, "oauth_creds.json"))).toBe(join(home, ".gemini", "oauth_creds.json"));
    expect((await readdir(dot)).sort()).toEqual(["GEMINI.md", "oauth_creds.json", "settings.json"]);
    for (const name of ["GEMINI.md", "settings.json"]) expect(await readFile(join(dot, name), "utf8")).not.toContain("sk-secret-123");
  });

  it("names the API-key auth type when the operator chose none (with a base URL the CLI would reject its own 'gateway' type)", async () => {
    const home = await operator({ ui: { theme: "ANSI" } });
    const slot = await temp();
    await geminiDialect.seedHome(slot, { HOME: home, GEMINI_API_KEY: "sk-secret-123", GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:9" });
    const seeded = await readFile(join(slot, ".gemini", "settings.json"), "utf8");
    expect(JSON.parse(seeded)).toEqual({ ui: { theme: "ANSI" }, security: { auth: { selectedType: "gemini-api-key" } } });
    expect(seeded).not.toContain("sk-secret-123");
    expect(JSON.parse(await readFile(join(home, ".gemini", "settings.json"), "utf8"))).toEqual({ ui: { theme: "ANSI" } }); // the operator's is untouched
    const bare = await temp();
    await geminiDialect.seedHome(bare, { HOME: await temp() }); // no operator settings at all
    expect(JSON.parse(await readFile(join(bare, ".gemini", "settings.json"), "utf8"))).toEqual({ security: { auth: { selectedType: "gemini-api-key" } } });
    const vertex = await temp();
    await geminiDialect.seedHome(vertex, { HOME: await temp(), GOOGLE_GENAI_USE_VERTEXAI: "true" }); // the environment chose Vertex AI
    expect(await readdir(join(vertex, ".gemini"))).toEqual([]);
  });

  it("finds a session by id only in the project folder of the workspace it ran in", async () => {
    const slot = await temp();
    const workspace = await temp();
    const id = "8ca4633d-ed63-4e4f-a0ef-9cd47a0f439c";
    const chats = join(slot, ".gemini", "tmp", "ws", "chats");
    await mkdir(chats, { recursive: true });
    await writeFile(join(slot, ".gemini", "projects.json"), JSON.stringify({ projects: { [workspace]: "ws" } }));
    await writeFile(join(chats, "session-2026-11-28T05-04-8ca4633d.jsonl"), `${JSON.stringify({ sessionId: id, projectHash: "x", kind: "main" })}\n{"$set":{}}\n`);
    expect(await geminiDialect.hasSession!(slot, id, workspace)).toBe(true);
    expect(await geminiDialect.hasSession!(slot, "8ca4633d-0000-0000-0000-000000000000", workspace)).toBe(false);
    expect(await geminiDialect.hasSession!(slot, id, await temp())).toBe(false);
    expect(await geminiDialect.hasSession!(slot, "../../x", workspace)).toBe(false);
  });
});
