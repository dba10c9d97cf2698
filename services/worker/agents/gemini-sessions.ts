// Gemini CLI sessions in a config home: `.gemini/projects.json` maps a workspace path to a project name, the session is
// `.gemini/tmp/<name>/chats/session-<time>-<first 8 chars of its id>.jsonl`, and `tmp/<name>` and `history/<name>` hold
// a `.project_root` file naming the workspace (the CLI drops a mapping whose marker names another folder).
import { readdir, readFile, realpath, unlink } from "node:fs/promises";
import { join } from "node:path";
import { copyWhole, writeWhole } from "./session-files.ts";

/** The folder Gemini CLI keeps under its home. */
export const DOT_GEMINI = ".gemini";
const ROOT_MARKER = ".project_root";
/** The folders under `.gemini` whose `<name>/.project_root` the CLI checks (as 0.61 does). */
const MARKED = ["tmp", "history"];
const SAFE_NAME = /^[^/\\]+$/;

/** Where session `id` for workspace `cwd` lives in `home`: the registry key the workspace is under, its project, its file. */
export interface GeminiSession {
  key: string;
  project: string;
  file: string;
}

/** Session `id` for workspace `cwd` in `home`, if the home holds it. Never rejects. */
export async function findGeminiSession(home: string, id: string, cwd: string): Promise<GeminiSession | undefined> {
  if (!/^[\w-]{8,}$/.test(id)) return undefined;
  const dir = join(home, DOT_GEMINI);
  const projects = await readProjects(dir);
  const real = await realpath(cwd).catch(() => cwd);
  const key = [real, cwd].find((path) => typeof projects[path] === "string");
  const project = key === undefined ? undefined : projects[key];
  if (key === undefined || typeof project !== "string" || !SAFE_NAME.test(project)) return undefined;
  const file = (await sessionFiles(join(dir, "tmp", project, "chats"), id))[0];
  return file === undefined ? undefined : { key, project, file: join(dir, "tmp", project, "chats", file) };
}

/**
 * Copies session `id` for workspace `cwd` from `fromHome` into `toHome`: the workspace gets a project there (the
 * one it has, else the source's name or the first free `<name>-<n>`, with its markers and projects.json entry),
 * other copies of the session in it are removed, and the chat file is copied last under its own name. Rejects when
 * the source has no such session or a file cannot be written.
 */
export async function copyGeminiSession(fromHome: string, toHome: string, id: string, cwd: string): Promise<void> {
  const source = await findGeminiSession(fromHome, id, cwd);
  if (!source) throw new Error(`no Gemini session ${id} for ${cwd} in ${fromHome}`);
  const dir = join(toHome, DOT_GEMINI);
  const projects = await readProjects(dir);
  const project = await projectFor(dir, projects, source);
  for (const folder of MARKED) await writeWhole(join(dir, folder, project, ROOT_MARKER), source.key);
  if (projects[source.key] !== project) await writeWhole(join(dir, "projects.json"), `${JSON.stringify({ projects: { ...projects, [source.key]: project } }, null, 2)}\n`);
  const chats = join(dir, "tmp", project, "chats");
  const name = source.file.slice(source.file.lastIndexOf("/") + 1);
  for (const stale of await sessionFiles(chats, id)) if (stale !== name) await unlink(join(chats, stale));
  await copyWhole(source.file, join(chats, name));
}

/** The workspace's project in `dir`: its mapped one if that is still its own, else the source's name or `<name>-<n>`, free and unclaimed. */
async function projectFor(dir: string, projects: Record<string, unknown>, source: GeminiSession): Promise<string> {
  const mapped = projects[source.key];
  if (typeof mapped === "string" && SAFE_NAME.test(mapped) && (await ownedBy(dir, mapped, source.key))) return mapped;
  const taken = new Set(Object.entries(projects).filter(([path]) => path !== source.key).map(([, name]) => name));
  for (let counter = 0; counter < 1000; counter++) {
    const candidate = counter === 0 ? source.project : `${source.project}-${counter}`;
    if (!taken.has(candidate) && (await ownedBy(dir, candidate, source.key))) return candidate;
  }
  throw new Error(`no free Gemini project name for ${source.key} in ${dir}`);
}

/** True when no marker of `project` names a folder other than `key` (a missing marker is free). */
async function ownedBy(dir: string, project: string, key: string): Promise<boolean> {
  for (const folder of MARKED) {
    const owner = await readFile(join(dir, folder, project, ROOT_MARKER), "utf8").catch(() => undefined);
    if (owner !== undefined && owner.trim() !== key) return false;
  }
  return true;
}

/** The chat files in `chats` of session `id` (by name, then by the id in their header). */
async function sessionFiles(chats: string, id: string): Promise<string[]> {
  const suffixes = [`-${id.slice(0, 8)}.jsonl`, `-${id.slice(0, 8)}.json`];
  const found: string[] = [];
  for (const file of await readdir(chats).catch(() => [] as string[])) {
    if (!file.startsWith("session-") || !suffixes.some((suffix) => file.endsWith(suffix))) continue;
    if ((await sessionIdOf(join(chats, file))) === id) found.push(file);
  }
  return found;
}

/** `projects` of `dir`/projects.json ({} when it is missing or unreadable). */
async function readProjects(dir: string): Promise<Record<string, unknown>> {
  const registry = parseObject(await readFile(join(dir, "projects.json"), "utf8").catch(() => ""));
  const projects = registry?.["projects"];
  return typeof projects === "object" && projects !== null && !Array.isArray(projects) ? { ...(projects as Record<string, unknown>) } : {};
}

/** A session file's id: the first line of a .jsonl session (its header), or the whole of an older .json one. */
async function sessionIdOf(file: string): Promise<string | undefined> {
  const text = await readFile(file, "utf8").catch(() => "");
  const header = parseObject(text.split("\n", 1)[0] ?? "") ?? parseObject(text);
  return typeof header?.["sessionId"] === "string" ? header["sessionId"] : undefined;
}

/** A JSON object, or undefined for anything else. */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
