// Configuration: the operator's config file (YAML or JSON) and environment, parsed once into a frozen object.
// Library code receives these values as options; only `loadConfig` reads process.env.
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import * as z from "zod";
import { ConfigError } from "./errors.ts";
import { formatPath, Role } from "./protocol/common.ts";
import { GateName, REVIEW_GATE } from "./protocol/gates.ts";
import { GATE_PRESET_NAMES, GATE_PRESETS } from "./gates/presets.ts";
import { COVERAGE_FORMATS, COVERAGE_METRICS, TEST_RUNNERS } from "./gates/types.ts";
import { PlanningSettings } from "./config-planning.ts";
import { MetricsSettings, UiSettings } from "./config-observe.ts";
import { FAULT_POINTS, parseFaults } from "./faults.ts";
export { FAULT_POINTS, MetricsSettings, PlanningSettings, UiSettings };

export const DEFAULT_ROLES = [
  "orchestrator", "database", "api", "backend", "frontend", "qa", "reviewer", "devops", "docs", "bugfix", "planner",
] as const;

export const EXECUTORS = ["exec", "noop", "sleep"] as const;
/** Coding agents a role can run (docs/agents.md): three CLIs and `llm`, an API call through the official SDKs. */
export const AGENTS = ["claude-code", "codex", "gemini", "llm"] as const;
export type AgentKind = (typeof AGENTS)[number];

/** `llm` roles: which API, where, which key variable, and how hard to try (docs/agents.md). */
export const LlmConfig = z.strictObject({
  /** `anthropic`: the Messages API. `openai`: chat completions of any OpenAI-compatible server (OpenAI, vLLM, Ollama, LiteLLM, OpenRouter). */
  provider: z.enum(["anthropic", "openai"]).default("anthropic"),
  /** The API's base URL; default: the SDK's (api.anthropic.com, api.openai.com/v1). */
  baseUrl: z.string().url().optional(),
  /** The environment variable holding the API key; default ANTHROPIC_API_KEY or OPENAI_API_KEY. Keys come only from the environment. */
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
  maxTokens: z.int().min(1).max(1_000_000).default(8192),
  /** Tries per API call on 429, 5xx and connection errors (backoff, honouring retry-after). */
  maxRetries: z.int().min(0).max(20).default(4),
  /** Re-asks with the validation errors when the model's structured output is invalid. */
  repairAttempts: z.int().min(0).max(10).default(2),
  /** One API call's time limit. */
  requestTimeoutSeconds: z.number().positive().max(3600).default(300),
});
export type LlmConfig = z.infer<typeof LlmConfig>;

export const ExecRoleConfig = z.strictObject({
  /**
   * `exec` (default) runs `exec` as a process. `noop` completes at once and `sleep` waits (the task's
   * instructions as milliseconds, e.g. "50", else `sleepMs`): built-ins for benchmarks and tests.
   */
  executor: z.enum(EXECUTORS).default("exec"),
  /** argv run for each task; `./x` and `../x` resolve against the config file's folder, `${configDir}` is replaced by it. */
  exec: z.array(z.string().min(1)).min(1).optional(),
  /** `sleep` executor: duration when the task's instructions do not give one. */
  sleepMs: z.int().min(0).max(3_600_000).default(100),
  timeoutSeconds: z.number().positive().max(7 * 24 * 3600).default(1800),
  /** Extra environment for the executor (operator-chosen, never from a message). */
  env: z.record(z.string(), z.string()).default({}),
  /** Worker processes `baton up` starts for this role. */
  replicas: z.int().min(0).max(64).default(1),
  /** Concurrent tasks per worker process. */
  concurrency: z.int().min(1).max(256).default(1),
  /** A coding agent runs the role's tasks instead of `executor` (docs/agents.md). */
  agent: z.enum(AGENTS).optional(),
  /** The model, passed to the CLI (`--model`) or the API. */
  model: z.string().min(1).max(200).optional(),
  /** argv prefix that starts the agent CLI; default: the CLI in node_modules/.bin, else on PATH. */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Extra CLI arguments (the operator's; a message never adds any). */
  args: z.array(z.string()).default([]),
  /** The role's prompt file (relative: against the config file's folder), put before every task's prompt. */
  prompt: z.string().min(1).optional(),
  /** No output from the agent for this long: it is stalled, killed, and the task fails STALLED (retryable). */
  stallSeconds: z.number().positive().max(24 * 3600).default(300),
  /**
   * The agent's permission mode, as its CLI names it; default one that works unattended, also as root: Claude Code
   * `acceptEdits` (with `allowedTools`), Codex `workspace-write`, Gemini `auto_edit` (docs/agents.md).
   */
  permissionMode: z.string().min(1).max(100).optional(),
  /** Tools the agent may use without asking (Claude Code `--allowedTools`; default: edits, Bash and the read tools). */
  allowedTools: z.array(z.string().min(1)).optional(),
  /** `agent: llm`: the API to call (defaults: `LlmConfig.parse({})`). */
  llm: LlmConfig.optional(),
})
  .refine((r) => r.agent !== undefined || r.executor !== "exec" || r.exec !== undefined, { message: "`exec` (an argv) is required for the exec executor (or set `agent`)", path: ["exec"] })
  .refine((r) => r.agent !== "llm" || r.model !== undefined, { message: "an `llm` role needs a `model` (the API has no default)", path: ["model"] });
export type ExecRoleConfig = z.infer<typeof ExecRoleConfig>;

export const WorkerSettings = z.strictObject({
  /** How long JetStream waits for an ack (or in-progress ack) before redelivering a task. */
  ackWaitSeconds: z.number().min(1).max(3600).default(30),
  /** Deliveries of one task before it fails as "worker lost". */
  maxDeliver: z.int().min(1).max(100).default(5),
  /** SIGTERM: how long running tasks may finish before they are handed back. */
  drainGraceSeconds: z.number().min(0).max(3600).default(30),
  heartbeatSeconds: z.number().min(1).max(300).default(5),
  /** A task reports task_started only after running this long (or printing output); shorter ones report only their result. */
  startedDelayMs: z.int().min(0).max(60_000).default(50),
  /** Log lines per task per second forwarded as task.log events; the rest are counted as dropped. */
  logLinesPerSecond: z.int().min(1).max(10_000).default(50),
  /** Longest log line forwarded; longer lines are truncated. */
  logLineMaxChars: z.int().min(80).max(4096).default(2000),
  /**
   * Git features (docs/workspaces.md): where worktrees are made — default `$XDG_CACHE_HOME/baton/worktrees` (else
   * `~/.cache/…`), outside every work tree and not under `.git`, where agents refuse to edit — and which untracked
   * folders of the workspace are linked into each worktree (default `node_modules`, so gates run without a reinstall).
   */
  worktrees: z.strictObject({
    dir: z.string().min(1).optional(),
    link: z.array(z.string().min(1)).default(["node_modules"]),
  }).default({ link: ["node_modules"] }),
});

export const CoordinatorSettings = z.strictObject({
  maxRequestBytes: z.int().min(1024).max(8 * 1024 * 1024).default(256 * 1024),
  /** Inbound messages processed at once per coordinator process. */
  concurrency: z.int().min(1).max(1024).default(64),
  /** Status history kept in BATON_EVENTS. */
  eventsMaxAgeHours: z.number().positive().default(24 * 7),
  /** A message a coordinator took but did not ack (it crashed) is redelivered after this long. */
  ackWaitSeconds: z.number().min(1).max(600).default(10),
  /** Deadline for tasks whose request sets no `timeoutSeconds`, counted from each start. */
  taskTimeoutSeconds: z.int().min(1).max(7 * 24 * 3600).default(4 * 3600),
  /** How often a coordinator rescans all features for deadlines and unpublished outboxes left by others. */
  rescanSeconds: z.number().min(1).max(3600).default(30),
  /** A dispatched task (or gate run) no live worker of its role serves is reported as task.unserved when first seen, then every this many seconds. */
  unservedRepeatSeconds: z.number().min(1).max(24 * 3600).default(60),
  /** Default of a request's `dispatchTimeoutSeconds`: a task not started this long after its dispatch fails. Unset: no limit. */
  dispatchTimeoutSeconds: z.int().min(1).max(7 * 24 * 3600).optional(),
  /** A file-scope lock's lease: a worker that has not renewed its lock for this long (it died) has lost it. */
  lockLeaseSeconds: z.int().min(2).max(3600).default(30),
});

/** A gate as the operator defines it (docs/gates.md); `run` is an argv, never a shell line. */
export const GateConfig = z.strictObject({
  run: z.array(z.string().min(1)).min(1),
  timeoutSeconds: z.number().positive().max(24 * 3600).default(600),
  /** `pass`: exit 0 passes. `fail`: the gate passes when the command fails (a TDD red phase). */
  expect: z.enum(["pass", "fail"]).default("pass"),
  /** Parse the runner's test counts from the output: a run of zero tests fails the gate. */
  tests: z.enum([...TEST_RUNNERS, "auto"]).optional(),
  /** Read the coverage report the command wrote (relative to the workspace) and require a minimum. */
  coverage: z.strictObject({
    file: z.string().min(1),
    format: z.enum(COVERAGE_FORMATS).optional(),
    metric: z.enum(COVERAGE_METRICS).default("lines"),
    min: z.number().min(0).max(100),
  }).optional(),
  /** A JUnit XML report the command writes (relative to the workspace), read for the counts (implies `tests: junit`;
   *  `tests: junit` without it reads JUnit XML the command prints). */
  junit: z.string().min(1).optional(),
}).superRefine((gate, ctx) => {
  if (gate.junit !== undefined && gate.tests !== undefined && gate.tests !== "junit") {
    ctx.addIssue({ code: "custom", path: ["tests"], message: `a gate with a junit report reads its counts from that file: leave tests out or set it to junit (not ${gate.tests})` });
  }
});
export type GateConfig = z.infer<typeof GateConfig>;

export const ConfigFile = z.strictObject({
  nats: z.strictObject({ url: z.string().optional() }).default({}),
  prefix: z.string().optional(),
  /** Roles a feature request may name, beside the keys of `roles`. With neither, any well-formed role is accepted. */
  knownRoles: z.array(Role).optional(),
  /** Default workspace for features that do not name one (relative: against the config file's folder). */
  workspace: z.string().optional(),
  /**
   * Folders under which a task's workspace must lie (after resolving symlinks); a task naming any other fails
   * before anything runs. Default: `workspace` and `.baton/workspaces` (relative: against the config file's folder).
   */
  workspaceRoots: z.array(z.string().min(1)).optional(),
  roles: z.record(Role, ExecRoleConfig).default({}),
  /** Named gates features may ask for; `gatePresets` add a stack's usual ones (a gate here overrides a preset's). */
  gates: z.record(GateName.refine((n) => n !== REVIEW_GATE, `"${REVIEW_GATE}" is the reviewer's gate: it needs no config and cannot be redefined`), GateConfig).default({}),
  gatePresets: z.array(z.enum(GATE_PRESET_NAMES)).default([]),
  worker: WorkerSettings.default(WorkerSettings.parse({})),
  coordinator: CoordinatorSettings.default(CoordinatorSettings.parse({})),
  planning: PlanningSettings.default(PlanningSettings.parse({})),
  metrics: MetricsSettings.default(MetricsSettings.parse({})),
  ui: UiSettings.default(UiSettings.parse({})),
  log: z.strictObject({ level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional() }).default({}),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

export interface BatonConfig {
  natsUrl: string;
  prefix: string;
  configDir: string;
  configPath?: string | undefined;
  /** `knownRoles` + the keys of `roles`; undefined when the config names no role at all (then any well-formed role is accepted). */
  knownRoles: string[] | undefined;
  workspace?: string | undefined;
  /** `workspaceRoots` resolved to absolute paths; undefined: the default (`workspace` and the worker's `.baton/workspaces`). */
  workspaceRoots?: string[] | undefined;
  roles: Record<string, ExecRoleConfig>;
  /** Every gate a request may name: presets first, then the file's own (argv resolved like `exec`). */
  gates: Record<string, GateConfig>;
  worker: z.infer<typeof WorkerSettings>;
  coordinator: z.infer<typeof CoordinatorSettings>;
  /** Planning settings with their folders and file resolved to absolute paths. */
  planning: PlanningSettings;
  /** Prometheus metrics and the dashboard (shared/config-observe.ts); `ui.token` from BATON_UI_TOKEN when set. */
  metrics: MetricsSettings;
  ui: UiSettings;
  logLevel: string;
  /** Fault injection (tests only): probability of SIGKILL at each crash point. */
  faults: Partial<Record<(typeof FAULT_POINTS)[number], number>>;
}

/** Reads and validates a config file; YAML or JSON by content. Throws ConfigError naming each problem. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${formatPath(i.path)}: ${i.message}`).join("\n");
    throw new ConfigError(`config file ${path} is invalid:\n${lines}`);
  }
  return parsed.data;
}

/** Config files found in the working folder when neither `--config` nor BATON_CONFIG names one (`baton init` writes the first). */
export const CONFIG_FILE_NAMES = ["baton.config.yaml", "baton.config.yml", "baton.config.json"] as const;

/** The config file in `dir` by one of CONFIG_FILE_NAMES, if any. */
export function findConfigFile(dir: string): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => resolve(dir, name)).find((path) => existsSync(path));
}

/**
 * Builds the frozen configuration from a config file plus the environment (NATS_URL, BATON_PREFIX,
 * BATON_LOG_LEVEL; env wins over the file). The file: `file`, else BATON_CONFIG, else `baton.config.yaml` (or .yml,
 * .json) in `cwd` (default: the process's working folder), else none.
 */
export function loadConfig(opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Readonly<BatonConfig> {
  const env = opts.env ?? process.env;
  const path = opts.file ?? (env.BATON_CONFIG || findConfigFile(opts.cwd ?? process.cwd()));
  const file = path ? readConfigFile(path) : ConfigFile.parse({});
  const configDir = path ? dirname(resolve(path)) : process.cwd();
  const roles: Record<string, ExecRoleConfig> = {};
  for (const [role, rc] of Object.entries(file.roles)) {
    roles[role] = {
      ...rc,
      ...(rc.exec ? { exec: rc.exec.map((a) => resolveArg(a, configDir)) } : {}),
      ...(rc.command ? { command: rc.command.map((a) => resolveArg(a, configDir)) } : {}),
      ...(rc.prompt ? { prompt: resolve(configDir, rc.prompt.replaceAll("${configDir}", configDir)) } : {}),
    };
  }
  const named = [...(file.knownRoles ?? []), ...Object.keys(roles)];
  const knownRoles = file.knownRoles || named.length ? [...new Set(named)] : undefined;
  const gates: Record<string, GateConfig> = {};
  for (const preset of file.gatePresets) {
    for (const [name, spec] of Object.entries(GATE_PRESETS[preset])) gates[name] = GateConfig.parse(spec);
  }
  for (const [name, gate] of Object.entries(file.gates)) gates[name] = { ...gate, run: gate.run.map((a) => resolveArg(a, configDir)) };
  const cfg: BatonConfig = {
    natsUrl: env.NATS_URL || file.nats.url || "nats://127.0.0.1:4222",
    prefix: env.BATON_PREFIX || file.prefix || "baton",
    configDir,
    configPath: path ? resolve(path) : undefined,
    knownRoles,
    workspace: file.workspace ? (isAbsolute(file.workspace) ? file.workspace : resolve(configDir, file.workspace)) : undefined,
    workspaceRoots: file.workspaceRoots?.map((root) => resolve(configDir, root)),
    roles,
    gates,
    worker: file.worker,
    coordinator: file.coordinator,
    planning: {
      ...file.planning,
      templates: file.planning.templates.map((dir) => resolve(configDir, dir)),
      roles: file.planning.roles.map((dir) => resolve(configDir, dir)),
      ...(file.planning.rules ? { rules: resolve(configDir, file.planning.rules) } : {}),
    },
    metrics: file.metrics,
    ui: { ...file.ui, ...(env.BATON_UI_TOKEN ? { token: env.BATON_UI_TOKEN } : {}) },
    logLevel: env.BATON_LOG_LEVEL || file.log.level || "info",
    faults: parseFaults(env.BATON_FAULTS),
  };
  return Object.freeze(cfg);
}

function resolveArg(arg: string, configDir: string): string {
  const replaced = arg.replaceAll("${configDir}", configDir);
  return replaced.startsWith("./") || replaced.startsWith("../") ? resolve(configDir, replaced) : replaced;
}
