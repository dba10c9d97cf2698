// `baton submit`'s request flags (docs/planning.md): a feature request built from --title, --template with --param and
// --skip, --goal with --plan auto, --approval…, alone or over the fields of a request file. Pure: no I/O.
import { isAbsolute, resolve } from "node:path";
import { UsageError, type CliArgs } from "./args.ts";

/** The fields the flags set (only those given), as a request file would write them. */
export interface FlagFields {
  title?: string;
  workspace?: string;
  template?: string;
  parameters?: Record<string, string | string[]>;
  skip?: string[];
  stepRoles?: Record<string, string>;
  goal?: string;
  plan?: "auto";
  approval?: "required";
  maxParallel?: number;
}

/** The longest title made from a goal. */
const TITLE_FROM_GOAL = 80;

/** `key=value` split at the first `=`; throws UsageError naming the flag when there is no `=` or no key. */
function keyValue(flag: string, text: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new UsageError(`--${flag} takes KEY=VALUE, not ${JSON.stringify(text)}`);
  return [text.slice(0, at).trim(), text.slice(at + 1)];
}

/**
 * Template parameters from `--param key=value` flags: a key given once is a text; given again (or written `key[]=`)
 * it is a list of every value, in order. Values stay text (the template substitutes them into titles and prompts).
 */
export function parseParams(params: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const param of params) {
    const [rawKey, value] = keyValue("param", param);
    const list = rawKey.endsWith("[]");
    const key = list ? rawKey.slice(0, -2) : rawKey;
    if (!key) throw new UsageError(`--param takes KEY=VALUE, not ${JSON.stringify(param)}`);
    const before = out[key];
    if (before === undefined) out[key] = list ? [value] : value;
    else out[key] = [...(Array.isArray(before) ? before : [before]), value];
  }
  return out;
}

/**
 * The fields the request flags give. `--goal` implies `--plan auto`; `--plan` takes only `auto`; a relative
 * `--workspace` is resolved against `cwd`. Throws UsageError for a malformed flag.
 */
export function requestFlags(values: CliArgs["values"], cwd: string): FlagFields {
  const fields: FlagFields = {};
  if (values.title !== undefined) fields.title = values.title;
  if (values.workspace !== undefined) fields.workspace = isAbsolute(values.workspace) ? values.workspace : resolve(cwd, values.workspace);
  if (values.template !== undefined) fields.template = values.template;
  if (values.param?.length) fields.parameters = parseParams(values.param);
  if (values.skip?.length) fields.skip = values.skip;
  if (values["step-role"]?.length) fields.stepRoles = Object.fromEntries(values["step-role"].map((pair) => keyValue("step-role", pair)));
  if (values.plan !== undefined && values.plan !== "auto") throw new UsageError(`--plan takes only "auto" (the planner plans the tasks from --goal), not ${JSON.stringify(values.plan)}`);
  if (values.goal !== undefined) fields.goal = values.goal;
  if (values.plan === "auto" || values.goal !== undefined) fields.plan = "auto";
  if (values.approval) fields.approval = "required";
  if (values["max-parallel"] !== undefined) {
    const count = Number(values["max-parallel"]);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--max-parallel takes a whole number of at least 1, not ${JSON.stringify(values["max-parallel"])}`);
    fields.maxParallel = count;
  }
  return fields;
}

/** A title for a request that has none: the goal's first line (shortened), else the template's name. */
export function defaultTitle(request: { goal?: unknown; template?: unknown }): string | undefined {
  if (typeof request.goal === "string" && request.goal.trim()) {
    const line = request.goal.trim().split("\n")[0]!;
    return line.length > TITLE_FROM_GOAL ? `${line.slice(0, TITLE_FROM_GOAL - 1)}…` : line;
  }
  return typeof request.template === "string" && request.template ? request.template : undefined;
}

/**
 * The request to submit: `file`'s (when one was read) with the flags' fields over it, and a default title when it
 * has none. `file` undefined: the flags alone, which must give a template, a goal or a plan (else UsageError).
 */
export function mergeRequest(file: unknown, fields: FlagFields): unknown {
  if (file === undefined) {
    if (!fields.template && !fields.plan) throw new UsageError("missing the request FILE (JSON or YAML, - for stdin), or --template NAME, or --goal TEXT");
  } else if (!Object.keys(fields).length) {
    return file;
  } else if (!file || typeof file !== "object" || Array.isArray(file)) {
    return file; // the validation says what is wrong with it
  }
  const merged: Record<string, unknown> = { ...(file as Record<string, unknown> | undefined), ...fields };
  if (merged.title === undefined) {
    const title = defaultTitle(merged);
    if (title) merged.title = title;
  }
  return merged;
}
