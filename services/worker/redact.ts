// Keeps the operator's secrets out of everything a worker says: the values of secret-looking variables (the worker's
// environment, every role's `env`, the agents' key variables) are replaced by `[redacted:NAME]` in each message
// it publishes and each log line it writes. Pure: built once at start-up, then one precompiled regex per string.
import { AGENT_CLIS, llmKeyEnv } from "../../shared/agents.ts";
import type { BatonConfig } from "../../shared/config.ts";

/** Variable names whose values are secrets (case-insensitive), e.g. ANTHROPIC_API_KEY, GH_TOKEN, DB_PASSWORD. */
export const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;
/** Shorter values are not treated as secrets (they would match ordinary text: "true", "1", "dev"). */
export const MIN_SECRET_CHARS = 8;

export interface Secret {
  name: string;
  value: string;
}

export interface Redactor {
  /** The variables whose values are replaced, for a start-up log line (never the values). */
  readonly names: readonly string[];
  /** `text` with every secret value replaced by `[redacted:NAME]`; the same string when it holds none. */
  text(text: string): string;
  /**
   * A copy of a JSON-like value with every string (object keys included) redacted by `text`; non-plain objects
   * and other primitives are kept as they are. Returns `value` itself when there is nothing to redact.
   */
  value<T>(value: T): T;
}

/**
 * The secrets among `envs` (later sources do not repeat a value already found): variables whose name matches
 * SECRET_NAME, or is listed in `alwaysSecret`, with a value of at least MIN_SECRET_CHARS characters.
 */
export function secretsOf(envs: readonly Readonly<Record<string, string | undefined>>[], alwaysSecret: readonly string[] = []): Secret[] {
  const always = new Set(alwaysSecret);
  const seen = new Set<string>();
  const secrets: Secret[] = [];
  for (const env of envs) {
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined || value.length < MIN_SECRET_CHARS || seen.has(value)) continue;
      if (!always.has(name) && !SECRET_NAME.test(name)) continue;
      seen.add(value);
      secrets.push({ name, value });
    }
  }
  return secrets;
}

/**
 * The worker's secrets: from its own environment and every role's `env`, the variables SECRET_NAME matches plus
 * every agent CLI's key variables and each `llm` role's `apiKeyEnv`, whatever their names.
 */
export function workerSecrets(config: Pick<BatonConfig, "roles">, env: Readonly<Record<string, string | undefined>>): Secret[] {
  const roles = Object.values(config.roles);
  const keyNames = [...Object.values(AGENT_CLIS).flatMap((cli) => cli.keyEnv), ...roles.filter((rc) => rc.agent === "llm").map((rc) => llmKeyEnv(rc.llm))];
  return secretsOf([env, ...roles.map((rc) => rc.env)], keyNames);
}

/** A redactor that changes nothing (no secrets known). */
export const NO_SECRETS: Redactor = { names: [], text: (text) => text, value: (value) => value };

/**
 * Builds the redactor of `secrets`: one regex alternating every value, longest first (so a secret that contains
 * another is replaced whole), each also in its JSON-escaped form (log lines are JSON). Safe with any characters.
 */
export function createRedactor(secrets: readonly Secret[]): Redactor {
  if (!secrets.length) return NO_SECRETS;
  const nameOf = new Map<string, string>();
  for (const { name, value } of secrets) {
    const marker = `[redacted:${name.replace(/[^A-Za-z0-9_.-]/g, "_")}]`;
    for (const form of [value, JSON.stringify(value).slice(1, -1)]) if (!nameOf.has(form)) nameOf.set(form, marker);
  }
  const forms = [...nameOf.keys()].sort((left, right) => right.length - left.length);
  const pattern = new RegExp(forms.map(escapeRegExp).join("|"), "g");
  const replace = (found: string) => nameOf.get(found) ?? found;
  const text = (input: string): string => {
    pattern.lastIndex = 0;
    return pattern.test(input) ? input.replace(pattern, replace) : input;
  };
  const value = <T>(input: T): T => redactValue(input, text) as T;
  return { names: [...new Set(secrets.map((secret) => secret.name))].sort(), text, value };
}

function redactValue(input: unknown, text: (input: string) => string): unknown {
  if (typeof input === "string") return text(input);
  if (Array.isArray(input)) {
    let changed = false;
    const out = input.map((item) => {
      const redacted = redactValue(item, text);
      changed ||= redacted !== item;
      return redacted;
    });
    return changed ? out : input;
  }
  if (input === null || typeof input !== "object" || !isPlain(input)) return input;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(input)) {
    const redactedKey = text(key);
    const redacted = redactValue(item, text);
    changed ||= redacted !== item || redactedKey !== key;
    out[redactedKey] = redacted;
  }
  return changed ? out : input;
}

function isPlain(input: object): boolean {
  const proto = Object.getPrototypeOf(input) as unknown;
  return proto === Object.prototype || proto === null;
}

function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
