// Every NATS subject, stream, consumer and bucket name Baton uses, built and validated in one place.
// No other module writes a subject string by hand.

/** A token that may appear in one subject position: ids, roles, verbs. */
export const TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX_RE = /^[a-z][a-z0-9_-]{0,31}$/;

export class InvalidTokenError extends Error {
  override name = "InvalidTokenError";
}

export function isToken(value: unknown): value is string {
  return typeof value === "string" && TOKEN_RE.test(value);
}

function token(kind: string, value: string): string {
  if (!isToken(value)) throw new InvalidTokenError(`invalid ${kind} ${JSON.stringify(value)}: use 1-64 of [A-Za-z0-9_-]`);
  return value;
}

/** Status event kinds are dotted (e.g. `task.completed`); each part must be a token. */
function kindTokens(kind: string): string {
  for (const part of kind.split(".")) token("event kind", part);
  return kind;
}

export type Names = ReturnType<typeof names>;

/**
 * Object name of a stored task result in the results bucket: feature, task, attempt (and a gate run's gate), then
 * the first 16 hex digits of the content's sha256 — so a redelivery that produced other content never overwrites
 * the object an accepted result refers to, and one with the same content writes the same name.
 */
export function resultKey(ref: { featureId: string; taskId: string; attempt: number; gate?: { scope: string; name: string; run: number } | undefined }, sha256: string): string {
  if (!Number.isInteger(ref.attempt) || ref.attempt < 1) throw new InvalidTokenError(`invalid attempt ${ref.attempt}`);
  if (!/^[0-9a-f]{16,64}$/.test(sha256)) throw new InvalidTokenError(`invalid sha256 ${JSON.stringify(sha256)}`);
  const gate = ref.gate ? `.gate.${token("gate scope", ref.gate.scope)}.${token("gate name", ref.gate.name)}.${ref.gate.run}` : "";
  return `${token("feature id", ref.featureId)}.${token("task id", ref.taskId)}.${ref.attempt}${gate}.${sha256.slice(0, 16)}`;
}

/**
 * Builds every name for one deployment prefix (default `baton`). Tests use a unique prefix per
 * test so that they never share streams. Throws InvalidTokenError on a bad prefix or token.
 */
export function names(prefix = "baton") {
  if (!PREFIX_RE.test(prefix)) throw new InvalidTokenError(`invalid prefix ${JSON.stringify(prefix)}: use [a-z][a-z0-9_-]{0,31}`);
  const upperPrefix = prefix.toUpperCase(); // injective: prefixes are lowercase, "-" is legal in stream names
  return {
    prefix,
    // subjects
    featureSubmit: () => `${prefix}.feature.submit`,
    apiSubmit: () => `${prefix}.api.submit`,
    /** Read model (request/reply, answered by coordinators): one feature's current state, and the feature list. */
    apiFeatureGet: () => `${prefix}.api.features.get`,
    apiFeatureList: () => `${prefix}.api.features.list`,
    task: (role: string) => `${prefix}.task.${token("role", role)}`,
    taskAll: () => `${prefix}.task.>`,
    result: (featureId: string, taskId: string) =>
      `${prefix}.result.${token("feature id", featureId)}.${token("task id", taskId)}`,
    resultAll: () => `${prefix}.result.>`,
    control: (featureId: string, verb: string) => `${prefix}.control.${token("feature id", featureId)}.${token("verb", verb)}`,
    controlAll: () => `${prefix}.control.>`,
    status: (featureId: string, kind: string) => `${prefix}.status.${token("feature id", featureId)}.${kindTokens(kind)}`,
    statusOf: (featureId: string) => `${prefix}.status.${token("feature id", featureId)}.>`,
    statusAll: () => `${prefix}.status.>`,
    /** One event kind across all features, e.g. every `feature.cancelled`. */
    statusKindAll: (kind: string) => `${prefix}.status.*.${kindTokens(kind)}`,
    /** A feature's journal: the events each coordinator apply committed, in order (see docs/design.md). */
    journal: (featureId: string) => `${prefix}.journal.${token("feature id", featureId)}`,
    journalAll: () => `${prefix}.journal.>`,
    // streams
    streams: {
      features: `${upperPrefix}_FEATURES`,
      tasks: `${upperPrefix}_TASKS`,
      results: `${upperPrefix}_RESULTS`,
      control: `${upperPrefix}_CONTROL`,
      events: `${upperPrefix}_EVENTS`,
      journal: `${upperPrefix}_JOURNAL`,
    },
    // durable consumers
    consumers: {
      coordinatorFeatures: "coordinator",
      coordinatorResults: "coordinator",
      coordinatorControl: "coordinator",
      role: (role: string) => token("role", role),
    },
    /** Core-NATS queue group shared by all coordinators for request/reply APIs. */
    coordinatorQueue: `${prefix}-coordinators`,
    // KV buckets
    buckets: {
      features: `${prefix}-features`,
      locks: `${prefix}-locks`,
      workers: `${prefix}-workers`,
      /** Coordinator heartbeats (`<coordinatorId>`), with the fingerprint of the config each decides with. */
      coordinators: `${prefix}-coordinators`,
      /** Object store of task results too large to inline (summary + handoff), referenced by `StoredRef` (docs/design.md). */
      results: `${prefix}-results`,
    },
    /** Parses `<prefix>.result.<featureId>.<taskId>`; null when the subject is not one. */
    parseResult(subject: string): { featureId: string; taskId: string } | null {
      const parts = subject.split(".");
      if (parts.length !== 4 || parts[0] !== prefix || parts[1] !== "result") return null;
      const [, , featureId, taskId] = parts as [string, string, string, string];
      return isToken(featureId) && isToken(taskId) ? { featureId, taskId } : null;
    },
    /** Parses `<prefix>.control.<featureId>.<verb>`; null when the subject is not one. */
    parseControl(subject: string): { featureId: string; verb: string } | null {
      const parts = subject.split(".");
      if (parts.length !== 4 || parts[0] !== prefix || parts[1] !== "control") return null;
      const [, , featureId, verb] = parts as [string, string, string, string];
      return isToken(featureId) && isToken(verb) ? { featureId, verb } : null;
    },
    /** Parses `<prefix>.task.<role>`. */
    parseTask(subject: string): { role: string } | null {
      const parts = subject.split(".");
      if (parts.length !== 3 || parts[0] !== prefix || parts[1] !== "task" || !isToken(parts[2])) return null;
      return { role: parts[2] };
    },
  };
}
