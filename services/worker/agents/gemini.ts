// The Gemini CLI dialect: `gemini --prompt "" --output-format stream-json` with the prompt on stdin, its config home
// in GEMINI_CLI_HOME (the CLI keeps `.gemini/` under it), an unattended approval default, and `--resume <id>`.
import { mkdir, readdir, readFile, realpath, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { AGENT_CLIS } from "../../../shared/agents.ts";
import { createGeminiParser } from "./gemini-stream.ts";
import { copyIfChanged, linkIfMissing } from "./home-files.ts";
import type { AgentDialect } from "./types.ts";

/**
 * Approval default: `auto_edit` approves the edit tools, and `--allowed-tools run_shell_command` adds the shell,
 * which headless Gemini CLI otherwise leaves out of the model's tools altogether (docs/agents.md). `yolo` would
 * approve every tool, web fetches and sub-agents included.
 */
export const GEMINI_DEFAULT_APPROVAL_MODE = "auto_edit";
export const GEMINI_DEFAULT_ALLOWED_TOOLS: readonly string[] = ["run_shell_command"];

/** The folder Gemini CLI keeps under its home ($GEMINI_CLI_HOME, else the user's home). */
const DOT_GEMINI = ".gemini";
/** Operator files copied into each home; credentials are linked, never copied (a token refresh writes through). */
const COPIED = ["GEMINI.md"];
const LINKED = ["oauth_creds.json", "google_accounts.json"];

type Env = Readonly<Record<string, string | undefined>>;

/** Variables by which the operator's environment picks an auth type other than an API key (as Gemini CLI reads them). */
const OTHER_AUTH_ENV = ["GOOGLE_GENAI_USE_GCA", "GOOGLE_GENAI_USE_VERTEXAI", "CLOUD_SHELL", "GEMINI_CLI_USE_COMPUTE_ADC"];

/** The operator's own `.gemini` folder: under $GEMINI_CLI_HOME, else under ~. */
const operatorDir = (env: Env): string => join(env["GEMINI_CLI_HOME"] ?? env["HOME"] ?? homedir(), DOT_GEMINI);

export const geminiDialect: AgentDialect = {
  agent: "gemini",
  binary: AGENT_CLIS.gemini.binary,
  keyEnv: AGENT_CLIS.gemini.keyEnv,
  invocation(input) {
    const mode = input.permissionMode ?? GEMINI_DEFAULT_APPROVAL_MODE;
    // --skip-trust: headless Gemini CLI refuses an untrusted folder, and Baton's workspaces are the operator's roots
    const args = [...input.extraArgs, "--output-format", "stream-json", "--skip-trust", "--approval-mode", mode];
    const tools = input.allowedTools ?? GEMINI_DEFAULT_ALLOWED_TOOLS;
    if (mode !== "yolo") for (const tool of tools) args.push("--allowed-tools", tool);
    if (input.model) args.push("--model", input.model);
    if (input.resume) args.push("--resume", input.resume);
    // an empty --prompt selects headless mode; the CLI puts stdin before it, so the prompt is stdin alone
    args.push("--prompt", "");
    // GEMINI_CLI_NO_RELAUNCH: one process instead of a launcher that ignores SIGTERM and a child (and ~1 s sooner)
    return { args, stdin: input.prompt, env: { GEMINI_CLI_HOME: input.home, GEMINI_CLI_NO_RELAUNCH: "true" } };
  },
  async seedHome(home, operatorEnv) {
    const target = join(home, DOT_GEMINI);
    await mkdir(target, { recursive: true });
    const source = operatorDir(operatorEnv);
    if (source === target) return;
    await seedSettings(join(source, "settings.json"), join(target, "settings.json"), operatorEnv);
    for (const name of COPIED) await copyIfChanged(join(source, name), join(target, name));
    for (const name of LINKED) await linkIfMissing(join(source, name), join(target, name));
  },
  async hasSession(home, id, cwd) {
    if (!/^[\w-]{8,}$/.test(id)) return false;
    const dir = join(home, DOT_GEMINI);
    const projects = await readJson(join(dir, "projects.json"));
    const byPath = (projects as { projects?: Record<string, unknown> } | undefined)?.projects ?? {};
    const real = await realpath(cwd).catch(() => cwd);
    const name = byPath[real] ?? byPath[cwd];
    if (typeof name !== "string" || !/^[^/\\]+$/.test(name)) return false;
    const chats = join(dir, "tmp", name, "chats");
    const suffixes = [`-${id.slice(0, 8)}.jsonl`, `-${id.slice(0, 8)}.json`];
    for (const file of await readdir(chats).catch(() => [] as string[])) {
      if (!file.startsWith("session-") || !suffixes.some((suffix) => file.endsWith(suffix))) continue;
      if ((await sessionIdOf(join(chats, file))) === id) return true;
    }
    return false;
  },
  createParser: createGeminiParser,
};

/**
 * The operator's settings.json, with `security.auth.selectedType: "gemini-api-key"` added when it names no auth type
 * and the environment selects none of Vertex AI, Google login or ADC (the CLI's own choice then, from GEMINI_API_KEY).
 * Why: with GOOGLE_GEMINI_BASE_URL set, Gemini CLI 0.61 derives a "gateway" auth type that its own headless check
 * rejects ("Invalid auth method selected"); with the API-key type it still sends its requests to that base URL. The
 * rule needs no knowledge of the role's `env` (where the base URL usually is). Settings that are not plain JSON
 * (comments) are copied as they are.
 */
async function seedSettings(from: string, to: string, env: Env): Promise<void> {
  const text = await readFile(from, "utf8").catch(() => undefined);
  let wanted = text;
  const settings = text === undefined ? {} : parseObject(text);
  if (settings && needsApiKeyAuth(settings, env)) {
    const security = (settings["security"] ??= {}) as Record<string, unknown>;
    const auth = (security["auth"] ??= {}) as Record<string, unknown>;
    auth["selectedType"] = "gemini-api-key";
    wanted = `${JSON.stringify(settings, null, 2)}\n`;
  }
  if (wanted === undefined) return;
  const have = await readFile(to, "utf8").catch(() => undefined);
  if (have !== wanted) await writeFile(to, wanted);
}

function needsApiKeyAuth(settings: Record<string, unknown>, env: Env): boolean {
  const auth = ((settings["security"] as Record<string, unknown> | undefined)?.["auth"] ?? {}) as Record<string, unknown>;
  if (auth["selectedType"] !== undefined || auth["useExternal"] === true) return false;
  return !OTHER_AUTH_ENV.some((name) => env[name] === "true");
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? undefined : parseObject(text);
}

/** A session file's id: the first line of a .jsonl session (its header), or the whole of an older .json one. */
async function sessionIdOf(file: string): Promise<string | undefined> {
  const text = await readFile(file, "utf8").catch(() => "");
  const header = parseObject(text.split("\n", 1)[0] ?? "") ?? parseObject(text);
  return typeof header?.["sessionId"] === "string" ? header["sessionId"] : undefined;
}

