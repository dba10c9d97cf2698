// The fingerprint of the configuration that changes a coordinator's decisions (roles, gates, outcome settings):
// coordinators publish it in their heartbeat so that two stacks sharing one prefix with different configs are noticed.
import { createHash } from "node:crypto";

/** Coordinator settings that change what happens to a request (read when present; others only tune speed). */
export const OUTCOME_SETTINGS = ["taskTimeoutSeconds", "dispatchTimeoutSeconds", "maxRequestBytes"] as const;

export type SettingValue = string | number | boolean | null;

/** Planning settings that change what happens to a request (config `planning:`). */
export const PLANNING_SETTINGS = ["approval", "maxAttempts", "questionTimeoutSeconds", "templates", "rules", "roles"] as const;

/** What a coordinator decides with, as published in its heartbeat. */
export interface DecisionConfig {
  /** The roles a request may name, sorted; null when the config names none (then any well-formed role is accepted). */
  roles: string[] | null;
  /** Gate name → short hash of its definition (command, timeout, expectation, test and coverage rules). */
  gates: Record<string, string>;
  /** The OUTCOME_SETTINGS that are set. */
  settings: Record<string, SettingValue>;
}

/** JSON with every object's keys sorted, so equal values give equal text whatever their key order. Pure. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).filter(([, child]) => child !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, child]) => [key, sortKeys(child)]));
}

/** The first 12 hex digits of the sha256 of `value`'s canonical JSON. Pure and stable across key order. */
export function shortHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 12);
}

/** The decision-relevant part of a loaded configuration (BatonConfig). Pure. */
export function decisionConfig(config: { knownRoles?: readonly string[] | undefined; gates: Record<string, unknown>; coordinator: object; planning?: object | undefined }): DecisionConfig {
  const gates: Record<string, string> = {};
  for (const [name, gate] of Object.entries(config.gates)) gates[name] = shortHash(gate);
  const settings: Record<string, SettingValue> = {};
  const coordinator = config.coordinator as Record<string, unknown>;
  for (const key of OUTCOME_SETTINGS) {
    const value = coordinator[key];
    if (value !== undefined) settings[key] = value as SettingValue;
  }
  // planning (docs/planning.md): whether plans wait for approval, planner attempts, question timeouts, and where
  // templates, rules and role files come from (a folder's path, not its files: `baton doctor` loads those)
  const planning = (config.planning ?? {}) as Record<string, unknown>;
  for (const key of PLANNING_SETTINGS) {
    const value = planning[key];
    if (value !== undefined && !(Array.isArray(value) && !value.length)) settings[`planning.${key}`] = Array.isArray(value) ? value.join(",") : (value as SettingValue);
  }
  return { roles: sortedRoles(config.knownRoles), gates, settings };
}

/** The fingerprint of a DecisionConfig: equal configs (in any key or role order) give equal fingerprints. Pure. */
export function configFingerprint(decision: DecisionConfig): string {
  return shortHash({ roles: sortedRoles(decision.roles), gates: decision.gates, settings: decision.settings });
}

function sortedRoles(roles: readonly string[] | null | undefined): string[] | null {
  return roles ? [...new Set(roles)].sort() : null;
}

/**
 * What differs between two DecisionConfigs, one phrase each (empty when they decide alike), e.g.
 * `role docs only here`, `gate test defined differently`, `taskTimeoutSeconds 14400 here, 60 there`. Pure.
 */
export function configDifferences(mine: DecisionConfig, theirs: DecisionConfig, labels: readonly [string, string] = ["here", "there"]): string[] {
  const [here, there] = labels;
  const out: string[] = [];
  const onlyIn = (left: Iterable<string>, right: Iterable<string>) => [...left].filter((item) => ![...right].includes(item)).sort();
  const listed = (items: string[]) => items.join(", ");
  if (!mine.roles || !theirs.roles) {
    if (mine.roles !== theirs.roles) out.push(mine.roles ? `any role accepted ${there}, only ${listed(mine.roles)} ${here}` : `any role accepted ${here}, only ${listed(theirs.roles!)} ${there}`);
  } else {
    const rolesHere = onlyIn(mine.roles, theirs.roles);
    const rolesThere = onlyIn(theirs.roles, mine.roles);
    if (rolesHere.length) out.push(`roles only ${here}: ${listed(rolesHere)}`);
    if (rolesThere.length) out.push(`roles only ${there}: ${listed(rolesThere)}`);
  }
  const gatesHere = onlyIn(Object.keys(mine.gates), Object.keys(theirs.gates));
  const gatesThere = onlyIn(Object.keys(theirs.gates), Object.keys(mine.gates));
  if (gatesHere.length) out.push(`gates only ${here}: ${listed(gatesHere)}`);
  if (gatesThere.length) out.push(`gates only ${there}: ${listed(gatesThere)}`);
  const redefined = Object.keys(mine.gates).filter((name) => name in theirs.gates && mine.gates[name] !== theirs.gates[name]).sort();
  if (redefined.length) out.push(`gates defined differently: ${listed(redefined)}`);
  for (const key of [...new Set([...Object.keys(mine.settings), ...Object.keys(theirs.settings)])].sort()) {
    const [left, right] = [mine.settings[key], theirs.settings[key]];
    if (left !== right) out.push(`${key} ${left ?? "unset"} ${here}, ${right ?? "unset"} ${there}`);
  }
  return out;
}

/**
 * The fingerprint most coordinators run (ties: the one of the longest-running), against which the others are
 * marked as differing; `undefined` for no coordinators. Pure.
 */
export function commonFingerprint(beats: readonly { fingerprint: string; startedAt: string }[]): string | undefined {
  const counts = new Map<string, { count: number; since: string }>();
  for (const beat of beats) {
    const seen = counts.get(beat.fingerprint);
    counts.set(beat.fingerprint, { count: (seen?.count ?? 0) + 1, since: seen && seen.since < beat.startedAt ? seen.since : beat.startedAt });
  }
  const ranked = [...counts.entries()].sort(([, a], [, b]) => b.count - a.count || a.since.localeCompare(b.since));
  return ranked[0]?.[0];
}
