// `npm run demo -- --agent claude-code|codex`: the demo's implementing roles run a real agent CLI. With the provider's
// key in the environment the CLI calls the real API; without one (or with --scripted) it talks to Baton's scripted
// model server (services/model-server), started here as a child process with answers captured from the exec agents.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { captureDemoScripts } from "./plan.ts";
import { scriptFile, type DemoAgent } from "./scripts.ts";

/** The role prompt files (one per agent role): what the role does, and to finish with a summary. */
const ROLE_PROMPTS = fileURLToPath(new URL("./roles/", import.meta.url));

/** What each agent is called on screen and which key variable means "use the real API". */
export const DEMO_AGENTS: Readonly<Record<DemoAgent, { name: string; command: string; keyEnv: string; api: string }>> = {
  "claude-code": { name: "Claude Code", command: "claude -p", keyEnv: "ANTHROPIC_API_KEY", api: "Anthropic API" },
  codex: { name: "Codex", command: "codex exec", keyEnv: "OPENAI_API_KEY", api: "OpenAI API" },
};

/**
 * The roles that do the feature's work on the agent: they write the schema, the contract, the code, the web client and
 * the tests (qa writes test files too, and the red phase of the test-driven task). The reviewer stays the exec agent:
 * its verdicts (a review round that asks for operationId tags, then the final check) are what the demo shows, and the
 * gates are commands, whichever role runs them.
 */
export const AGENT_ROLES: readonly string[] = ["database", "api", "backend", "frontend", "qa"];

export const DEMO_HELP = `usage: npm run demo [-- --agent claude-code|codex [--scripted]] [-- --plan auto] [--approval] [--yes] [--keep]

Runs the API-first feature (examples/features/api-first.yaml) on a fresh copy of examples/sample-app.
  (no flags)        every role is an exec agent of examples/agents (no model, no network)
  --agent NAME      the roles ${AGENT_ROLES.join(", ")} run the real CLI instead (claude-code: claude -p;
                    codex: codex exec); the reviewer and the gates stay as they are.
                    With ANTHROPIC_API_KEY (claude-code) or OPENAI_API_KEY (codex) set, the CLI calls the real API
                    (this costs tokens); without it, Baton's scripted model server answers, locally and for free.
  --scripted        use the scripted model server even when the key is set
  --plan auto       no task list: the planner role (examples/agents/planner.mjs) plans the feature from a goal in
                    words, and the api agent asks a person one question on the way (\`baton answer\`)
  --approval        the plan waits for \`baton approve\` (or \`baton reject\`), run in another terminal
  --yes             approve and answer by itself after printing the commands (for CI; also BATON_DEMO_AUTO=1)
  --keep            leave baton up and its dashboard running after the feature ended, until Ctrl-C
  --help            this text
NATS_URL picks the NATS server (default nats://127.0.0.1:4222, started if none answers).`;

export type DemoOptions =
  | { help: true }
  | { help: false; agent?: DemoAgent | undefined; scripted: boolean; plan?: "auto" | undefined; approval: boolean; auto: boolean; keep?: boolean };

/**
 * The demo's command line; `env` only for BATON_DEMO_AUTO=1 (the same as --yes). Throws an Error with a message for
 * the user on a bad one.
 */
export function parseDemoArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): DemoOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      agent: { type: "string" }, scripted: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false },
      plan: { type: "string" }, approval: { type: "boolean", default: false }, yes: { type: "boolean", short: "y", default: false },
      keep: { type: "boolean", default: false },
    },
  });
  if (values.help) return { help: true };
  const agent = values.agent;
  if (agent !== undefined && !(agent in DEMO_AGENTS)) throw new Error(`--agent ${agent}: choose ${Object.keys(DEMO_AGENTS).join(" or ")}`);
  if (values.scripted && agent === undefined) throw new Error("--scripted goes with --agent");
  if (values.plan !== undefined && values.plan !== "auto") throw new Error(`--plan ${values.plan}: the only value is auto`);
  // the scripted model server's answers are captured for the task list of examples/features/api-first.yaml
  if (values.plan && agent !== undefined) throw new Error("--plan auto runs the exec agents: leave out --agent");
  if (values.yes && !values.plan && !values.approval) throw new Error("--yes goes with --plan auto or --approval");
  const auto = values.yes || ((values.plan !== undefined || values.approval) && env["BATON_DEMO_AUTO"] === "1");
  return { help: false, agent: agent as DemoAgent | undefined, scripted: values.scripted, plan: values.plan, approval: values.approval, auto, ...(values.keep ? { keep: true } : {}) };
}

/** A running scripted model server; `stop` is safe to call twice. */
export interface ModelServerChild {
  url: string;
  stop(): Promise<void>;
}

/** Starts `services/model-server/main.ts --script FILE` and resolves with its URL once it listens. */
export function startModelServer(root: string, script: string): Promise<ModelServerChild> {
  // In the demo's process group: Ctrl-C stops it too. A demo that exits any other way takes it along (the hook below).
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "services/model-server/main.ts"), "--script", script], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const onDemoExit = () => void child.kill("SIGKILL");
  process.once("exit", onDemoExit);
  child.once("exit", () => process.off("exit", onDemoExit));
  let output = "";
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopChild(child));
  return new Promise((resolvePromise, reject) => {
    const fail = (reason: string) => {
      void stop();
      reject(new Error(`the scripted model server ${reason}:\n${output}`));
    };
    const timer = setTimeout(() => fail("did not start within 30s"), 30_000);
    const onExit = (code: number | null) => fail(`exited (code ${code})`);
    child.once("exit", onExit);
    child.stderr!.on("data", (chunk: Buffer) => void (output += chunk.toString()));
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const line = /^\{.*"url".*\}$/m.exec(output)?.[0];
      if (!line) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      resolvePromise({ url: (JSON.parse(line) as { url: string }).url, stop });
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolvePromise) => child.once("exit", () => resolvePromise()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** How the agent reaches its model: the scripted server's URL, or the real API with the operator's key. */
type Model = { scripted: true; url: string } | { scripted: false };

/** The agent part of a role's config (shared/config.ts role fields) for `agent` and `model`. */
function agentRole(agent: DemoAgent, model: Model, promptFile: string): Record<string, unknown> {
  const role: Record<string, unknown> = { agent, prompt: promptFile, timeoutSeconds: model.scripted ? 300 : 1800, stallSeconds: model.scripted ? 120 : 300 };
  if (agent === "claude-code") {
    // Claude Code reads ANTHROPIC_API_KEY itself; for the scripted server it gets the URL and a placeholder key
    if (model.scripted) role["env"] = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "scripted-demo", DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" };
    return role;
  }
  const provider = model.scripted
    ? `model_providers.baton-demo={name="Baton scripted model server",base_url="${model.url}/v1",env_key="BATON_DEMO_MODEL_KEY",wire_api="responses"}`
    : `model_providers.openai-key={name="OpenAI",base_url="https://api.openai.com/v1",env_key="OPENAI_API_KEY",wire_api="responses"}`;
  // The sample app's tests listen on 127.0.0.1, which Codex's workspace-write sandbox forbids without network access.
  role["args"] = ["-c", provider, "-c", `model_provider=${model.scripted ? "baton-demo" : "openai-key"}`, "-c", "sandbox_workspace_write.network_access=true"];
  if (model.scripted) Object.assign(role, { model: "gpt-5.5", env: { BATON_DEMO_MODEL_KEY: "scripted-demo" } });
  return role;
}

/** `./x` and `../x` against `dir`, as loadConfig resolves them (the generated config lives elsewhere). */
const absolute = (dir: string, arg: string) => (arg.startsWith("./") || arg.startsWith("../") ? resolve(dir, arg) : arg);

/** The parts of the demo's config file that a generated copy changes. */
export interface DemoConfigFile {
  workspaceRoots?: string[];
  roles: Record<string, Record<string, unknown>>;
  gates?: Record<string, { run: string[] }>;
}

/**
 * The demo's config file `base` as an object that works from any folder: the exec argvs, gate commands and
 * workspaceRoots made absolute against `base`'s folder, as loadConfig resolves them. Reads the file; nothing else.
 */
export function relocatedConfig(base: string): DemoConfigFile {
  const baseDir = dirname(base);
  const file = parseYaml(readFileSync(base, "utf8")) as DemoConfigFile;
  const roles = Object.fromEntries(Object.entries(file.roles).map(([name, role]) => [
    name, Array.isArray(role["exec"]) ? { ...role, exec: (role["exec"] as string[]).map((arg) => absolute(baseDir, arg)) } : role,
  ]));
  const gates = Object.fromEntries(Object.entries(file.gates ?? {}).map(([name, gate]) => [name, { ...gate, run: gate.run.map((arg) => absolute(baseDir, arg)) }]));
  return { ...file, workspaceRoots: (file.workspaceRoots ?? []).map((root) => resolve(baseDir, root)), roles, gates };
}

/**
 * The demo's config (`base`, examples/baton.config.yaml) with AGENT_ROLES on `agent`, role prompts from
 * examples/agent-demo/roles, and every relative path made absolute, written to `file` as YAML. Pure apart from the write.
 */
export function writeAgentConfig(opts: { base: string; file: string; agent: DemoAgent; model: Model }): void {
  const base = relocatedConfig(opts.base);
  const roles: Record<string, Record<string, unknown>> = {};
  for (const [name, role] of Object.entries(base.roles)) {
    if (!AGENT_ROLES.includes(name)) {
      roles[name] = role;
      continue;
    }
    const { exec: _exec, ...kept } = role;
    roles[name] = { ...kept, ...agentRole(opts.agent, opts.model, join(ROLE_PROMPTS, `${name}.md`)) };
  }
  const config = { ...base, roles };
  const header = [
    `# Generated by \`npm run demo -- --agent ${opts.agent}\` from ${relative(dirname(opts.file), opts.base)}:`,
    `# roles ${AGENT_ROLES.join(", ")} run ${DEMO_AGENTS[opts.agent].name}${opts.model.scripted ? ` against the scripted model server at ${opts.model.url}` : ` with the ${DEMO_AGENTS[opts.agent].api}`}.`,
  ];
  writeFileSync(opts.file, `${header.join("\n")}\n${toYaml(config)}`);
}

/**
 * Prepares an agent run in `runDir`: decides real API or scripted server (saying which on screen, and why), captures
 * and starts the scripted server when needed, and writes the config. Resolves with the config file and a stop function
 * for what it started (safe to call twice).
 */
export async function prepareAgentRun(opts: {
  root: string; runDir: string; baseConfig: string; feature: string; agent: DemoAgent; scripted: boolean;
  env: Readonly<Record<string, string | undefined>>; say: (line: string) => void;
}): Promise<{ config: string; stop: () => Promise<void> }> {
  const about = DEMO_AGENTS[opts.agent];
  const file = join(opts.runDir, "baton.config.yaml");
  if (opts.env[about.keyEnv] && !opts.scripted) {
    opts.say(`${about.keyEnv} is set: ${about.name} (${about.command}) calls the real ${about.api} for roles ${AGENT_ROLES.join(", ")} — this uses your account's tokens`);
    writeAgentConfig({ base: opts.baseConfig, file, agent: opts.agent, model: { scripted: false } });
    return { config: file, stop: async () => {} };
  }
  opts.say("preparing the scripted model's answers: the exec agents (examples/agents) do the feature's work on a scratch copy of the sample app");
  const scripts = await captureDemoScripts({ root: opts.root, config: opts.baseConfig, feature: opts.feature, roles: AGENT_ROLES, scratch: join(opts.runDir, "capture") });
  const scriptPath = join(opts.runDir, `model-script.${opts.agent}.json`);
  writeFileSync(scriptPath, `${JSON.stringify(scriptFile(opts.agent, scripts), null, 2)}\n`);
  const server = await startModelServer(opts.root, scriptPath);
  const why = opts.env[about.keyEnv] ? "--scripted" : `no ${about.keyEnv}`;
  opts.say(`${why}: ${about.name} runs against Baton's scripted model server at ${server.url} (services/model-server; script ${relative(opts.root, scriptPath)}), not the real ${about.api}: no network, no cost. Set ${about.keyEnv} to use the real API.`);
  writeAgentConfig({ base: opts.baseConfig, file, agent: opts.agent, model: { scripted: true, url: server.url } });
  return { config: file, stop: server.stop };
}
