// Copying an agent CLI's session from one config home into another (the dialects' `copySession`), with real files laid
// out as Claude Code 2.1, Codex 0.171 and Gemini CLI 0.61 keep them; and the choice of home for a run whose session's
// home is busy (homeForRun: the session is copied into a free home, the newest copy is the one continued).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import pino from "pino";
import { claudeDialect } from "../../services/worker/agents/claude.ts";
import { codexDialect } from "../../services/worker/agents/codex.ts";
import { geminiDialect } from "../../services/worker/agents/gemini.ts";
import { homesRoot } from "../../services/worker/agents/homes.ts";
import { homeForRun } from "../../services/worker/agents/session-home.ts";
import type { AgentDialect } from "../../services/worker/agents/types.ts";

const root = mkdtempSync(join(tmpdir(), "baton-session-copy-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
/** A fresh folder under the test's root. */
const fresh = (name: string): string => {
  const dir = join(root, `${name}-${made++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const put = (path: string, text: string): string => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
};
/** Every file under `dir`, relative, sorted. */
const filesUnder = (dir: string): string[] => (existsSync(dir) ? (readdirSync(dir, { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isFile(): boolean }[]).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1)).sort() : []);

const ID = "5b7e0c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b";

describe("claude-code copySession", () => {
  const session = (home: string, id = ID) => {
    put(join(home, "projects", "-work-ws", `${id}.jsonl`), `{"type":"user","sessionId":"${id}"}\n{"type":"assistant"}\n`);
    put(join(home, "projects", "-work-ws", id, "subagents", "agent-1.jsonl"), "{}\n");
  };

  it("copies the transcript and its folder into the same project folder; the copy is resumable there", async () => {
    const [from, to, ws] = [fresh("claude-from"), fresh("claude-to"), fresh("ws")];
    session(from);
    expect(await claudeDialect.hasSession!(to, ID, ws)).toBe(false);
    await claudeDialect.copySession!(from, to, ID, ws);
    expect(filesUnder(to)).toEqual([`projects/-work-ws/${ID}.jsonl`, `projects/-work-ws/${ID}/subagents/agent-1.jsonl`]);
    expect(readFileSync(join(to, "projects", "-work-ws", `${ID}.jsonl`), "utf8")).toBe(readFileSync(join(from, "projects", "-work-ws", `${ID}.jsonl`), "utf8"));
    expect(await claudeDialect.hasSession!(to, ID, ws)).toBe(true);
    expect(await claudeDialect.sessionUpdatedAt!(to, ID, ws)).toEqual(expect.any(Number));
  });

  it("rejects a session the source does not hold, writing nothing", async () => {
    const [from, to, ws] = [fresh("claude-from"), fresh("claude-to"), fresh("ws")];
    session(from, "other-session");
    await expect(claudeDialect.copySession!(from, to, ID, ws)).rejects.toThrow(/no Claude session/);
    await expect(claudeDialect.copySession!(from, to, "../escape", ws)).rejects.toThrow();
    expect(filesUnder(to)).toEqual([]);
  });
});

describe("codex copySession", () => {
  const rollout = (home: string, cwd: string) =>
    put(join(home, "sessions", "2026", "11", "28", `rollout-2026-11-28T06-32-50-${ID}.jsonl`), `${JSON.stringify({ type: "session_meta", payload: { id: ID, cwd } })}\n{"type":"response_item"}\n`);

  it("copies the rollout file to the same path under sessions/ when it was recorded in the workspace", async () => {
    const [from, to, ws] = [fresh("codex-from"), fresh("codex-to"), fresh("ws")];
    const source = rollout(from, ws);
    await codexDialect.copySession!(from, to, ID, ws);
    expect(filesUnder(to)).toEqual([`sessions/2026/11/28/rollout-2026-11-28T06-32-50-${ID}.jsonl`]);
    expect(readFileSync(join(to, filesUnder(to)[0]!), "utf8")).toBe(readFileSync(source, "utf8"));
    expect(await codexDialect.hasSession!(to, ID, ws)).toBe(true);
  });

  it("rejects a session recorded in another workspace, writing nothing", async () => {
    const [from, to, ws, other] = [fresh("codex-from"), fresh("codex-to"), fresh("ws"), fresh("other")];
    rollout(from, other);
    await expect(codexDialect.copySession!(from, to, ID, ws)).rejects.toThrow(/no Codex session/);
    expect(filesUnder(to)).toEqual([]);
  });
});

describe("gemini copySession", () => {
  const chatName = `session-2026-11-28T06-32-${ID.slice(0, 8)}.jsonl`;
  /** A home where `ws` is project `name`, holding session ID in `file`. */
  const session = (home: string, ws: string, name = "ws", file = chatName) => {
    put(join(home, ".gemini", "projects.json"), JSON.stringify({ projects: { [ws]: name } }));
    put(join(home, ".gemini", "tmp", name, ".project_root"), ws);
    put(join(home, ".gemini", "history", name, ".project_root"), ws);
    return put(join(home, ".gemini", "tmp", name, "chats", file), `{"sessionId":"${ID}","kind":"main"}\n{"$set":{"messages":[]}}\n`);
  };
  const projectsOf = (home: string) => JSON.parse(readFileSync(join(home, ".gemini", "projects.json"), "utf8")).projects as Record<string, string>;

  it("into an empty home: registers the workspace under the source's project name, with its markers, and copies the chat file", async () => {
    const [from, to, ws] = [fresh("gemini-from"), fresh("gemini-to"), fresh("ws")];
    const source = session(from, ws);
    await geminiDialect.copySession!(from, to, ID, ws);
    expect(projectsOf(to)).toEqual({ [ws]: "ws" });
    expect(readFileSync(join(to, ".gemini", "tmp", "ws", ".project_root"), "utf8")).toBe(ws);
    expect(readFileSync(join(to, ".gemini", "history", "ws", ".project_root"), "utf8")).toBe(ws);
    expect(readFileSync(join(to, ".gemini", "tmp", "ws", "chats", chatName), "utf8")).toBe(readFileSync(source, "utf8"));
    expect(await geminiDialect.hasSession!(to, ID, ws)).toBe(true);
  });

  it("when the name belongs to another folder there, takes the next free one and keeps the other project", async () => {
    const [from, to, ws, other] = [fresh("gemini-from"), fresh("gemini-to"), fresh("ws"), fresh("other")];
    session(from, ws);
    put(join(to, ".gemini", "projects.json"), JSON.stringify({ projects: { [other]: "ws" } }));
    put(join(to, ".gemini", "tmp", "ws", ".project_root"), other);
    put(join(to, ".gemini", "tmp", "ws-1", ".project_root"), "/somewhere/else"); // a marker left by an older folder
    await geminiDialect.copySession!(from, to, ID, ws);
    expect(projectsOf(to)).toEqual({ [other]: "ws", [ws]: "ws-2" });
    expect(existsSync(join(to, ".gemini", "tmp", "ws-2", "chats", chatName))).toBe(true);
    expect(readFileSync(join(to, ".gemini", "tmp", "ws", ".project_root"), "utf8")).toBe(other);
    expect(await geminiDialect.hasSession!(to, ID, ws)).toBe(true);
  });

  it("replaces an older copy of the session that the home already has under another file name", async () => {
    const [from, to, ws] = [fresh("gemini-from"), fresh("gemini-to"), fresh("ws")];
    session(from, ws);
    session(to, ws, "ws", `session-2026-11-27T01-00-${ID.slice(0, 8)}.jsonl`);
    await geminiDialect.copySession!(from, to, ID, ws);
    expect(readdirSync(join(to, ".gemini", "tmp", "ws", "chats"))).toEqual([chatName]);
  });

  it("rejects a session the source does not hold for this workspace, writing nothing", async () => {
    const [from, to, ws, other] = [fresh("gemini-from"), fresh("gemini-to"), fresh("ws"), fresh("other")];
    session(from, other);
    await expect(geminiDialect.copySession!(from, to, ID, ws)).rejects.toThrow(/no Gemini session/);
    expect(filesUnder(to)).toEqual([]);
  });
});

describe("homeForRun", () => {
  const log = pino({ level: "silent" });
  const claudeSession = { agent: "claude-code" as const, id: ID, host: hostname() };
  const transcript = (home: string, text: string, mtimeSeconds: number) => {
    const path = put(join(home, "projects", "-work-ws", `${ID}.jsonl`), text);
    utimesSync(path, mtimeSeconds, mtimeSeconds);
  };

  it("continues the session in its own home when that is free, else copies it into a free home and continues it there", async () => {
    const cwd = fresh("worker");
    const home0 = join(homesRoot(cwd, "claude-code"), "0");
    transcript(home0, "first run\n", 1_000_000);
    const own = await homeForRun(claudeDialect, cwd, claudeSession, "/work/ws", log);
    expect(own).toMatchObject({ lease: { dir: home0 }, resume: ID });
    expect(own.copiedFrom).toBeUndefined();
    // home 0 stays held (another run): the next run gets home 1 with a copy of the session
    const copied = await homeForRun(claudeDialect, cwd, claudeSession, "/work/ws", log);
    expect(copied).toMatchObject({ lease: { dir: join(homesRoot(cwd, "claude-code"), "1") }, resume: ID, copiedFrom: home0 });
    expect(readFileSync(join(copied.lease.dir, "projects", "-work-ws", `${ID}.jsonl`), "utf8")).toBe("first run\n");
    await Promise.all([own.lease.release(), copied.lease.release()]);
  });

  it("picks the home with the newest copy, and starts fresh (no resume) when the copy fails or the session is another host's", async () => {
    const cwd = fresh("worker");
    const [home0, home1] = [0, 1].map((index) => join(homesRoot(cwd, "claude-code"), String(index))) as [string, string];
    transcript(home0, "older copy\n", 1_000_000);
    transcript(home1, "newer copy\n", 2_000_000);
    const newest = await homeForRun(claudeDialect, cwd, claudeSession, "/work/ws", log);
    expect(newest).toMatchObject({ lease: { dir: home1 }, resume: ID });
    const failing: AgentDialect = { ...claudeDialect, copySession: () => Promise.reject(new Error("disk full")) };
    const warned: string[] = [];
    const started = await homeForRun(failing, cwd, claudeSession, "/work/ws", { warn: (_: unknown, msg: string) => warned.push(msg) } as unknown as typeof log);
    expect(started).toEqual({ lease: expect.objectContaining({ dir: home0 }) });
    expect(warned).toEqual([expect.stringContaining("starting a fresh one")]);
    await started.lease.release();
    const elsewhere = await homeForRun(claudeDialect, cwd, { ...claudeSession, host: "another-host" }, "/work/ws", log);
    expect(elsewhere).toEqual({ lease: expect.objectContaining({ dir: home0 }) });
    await Promise.all([newest.lease.release(), elsewhere.lease.release()]);
  });
});
