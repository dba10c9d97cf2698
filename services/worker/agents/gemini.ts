// The Gemini CLI dialect: `gemini --prompt "" --output-format stream-json` with the prompt on stdin, its config home
// in GEMINI_CLI_HOME (the CLI keeps `.gemini/` under it), an unattended approval default, and `--resume <id>`.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { AGENT_CLIS } from "../../../shared/agents.ts";
import { copyGeminiSession, DOT_GEMINI, findGeminiSession, parseObject } from "./gemini-sessions.ts";
import { createGeminiParser } from "./gemini-stream.ts";
import { copyIfChanged, linkIfMissing } from "./home-files.ts";
import { modifiedAt } from "./session-files.ts";
import type { AgentDialect } from "./types.ts";

/**
 * Approval default: `auto_edit` approves the edit tools, and `--allowed-tools run_shell_command` adds the shell,
 * which headless Gemini CLI otherwise leaves out of the model's tools altogether (docs/agents.md). `yolo` would
 * approve every tool, web fetches and sub-agents included.
 */
export const GEMINI_DEFAULT_APPROVAL_MODE = "auto_edit";
export const GEMINI_DEFAULT_ALLOWED_TOOLS: readonly string[] = ["run_shell_command"];

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
  readOnlyPermissionMode: "plan",
  invocation(input) {
    const mode = input.permissionMode ?? GEMINI_DEFAULT_APPROVAL_MODE;
    // --skip-trust: headless Gemini CLI refuses an untrusted folder, and Baton's workspaces are the operator's roots
    const args = [...input.extraArgs, "--output-format", "stream-json", "--skip-trust", "--approval-mode", mode];
    // read-only `plan` mode (a planner run) gets no shell unless the role allows it
    const tools = input.allowedTools ?? (mode === "plan" ? [] : GEMINI_DEFAULT_ALLOWED_TOOLS);
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
  hasSession: async (home, id, cwd) => (await findGeminiSession(home, id, cwd)) !== undefined,
  async sessionUpdatedAt(home, id, cwd) {
    const session = await findGeminiSession(home, id, cwd);
    return session === undefined ? undefined : modifiedAt(session.file);
  },
  copySession: copyGeminiSession,
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
