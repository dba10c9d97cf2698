// The results object store as a worker uses it: a task's full summary and handoff, written (sha256 named and
// checked) before its result when too large to travel inline, and read back for the tasks that depend on it.
import { createHash } from "node:crypto";
import type { ObjectStore } from "@nats-io/obj";
import * as z from "zod";
import { decode } from "../../shared/codec.ts";
import { RetryableError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logging.ts";
import { openObjectStore, type NatsConnection } from "../../shared/nats.ts";
import { WIRE_ERRORS, wireError } from "../../shared/protocol/errors.ts";
import { Json, MAX_SUMMARY_CHARS, SUMMARY_PREVIEW_CHARS, type Handoff, type StoredRef, type TaskAssigned, type TaskResult, type WireError } from "../../shared/protocol/index.ts";
import { sleep } from "../../shared/process.ts";
import { resultKey, type Names } from "../../shared/subjects.ts";

/**
 * Largest summary + handoff (their JSON) a result carries inline; a larger one is stored and referenced. Keeps
 * result and task messages far below NATS's max_payload and the feature's snapshot small (docs/design.md).
 */
export const INLINE_RESULT_BYTES = 4 * 1024;

/** Tries of one store write (then the result is not published and the task stays unacked) and of one read. */
export const STORE_TRIES = { put: 5, get: 3 } as const;

/** What a stored object holds: the task's whole summary and handoff. */
export const StoredResult = z.strictObject({ summary: z.string().max(MAX_SUMMARY_CHARS).optional(), handoff: Json.optional() });
export type StoredResult = z.infer<typeof StoredResult>;

/** A stored result could not be written or read (missing, corrupt, or the store did not answer). Retryable by policy. */
export class ResultStoreError extends RetryableError {
  override name = "ResultStore";
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, { ...opts, code: WIRE_ERRORS.ResultStore.code });
  }
}

/** Whose result an object is (a gate run's results are keyed apart from its task's work). */
export type ResultOwner = Pick<TaskResult, "featureId" | "taskId" | "attempt" | "gate">;

export interface ResultsStore {
  /**
   * Stores `body` under a name made of `owner` and the body's sha256, and resolves with its reference. Idempotent:
   * an object of that name with the same digest is not written again. Rejects with ResultStoreError after STORE_TRIES.put.
   */
  put(owner: ResultOwner, body: Uint8Array): Promise<StoredRef>;
  /** The stored bytes, checked against the reference's size and sha256. Rejects with ResultStoreError (missing, corrupt, unreachable). */
  get(ref: StoredRef): Promise<Uint8Array>;
}

export const sha256Hex = (body: Uint8Array): string => createHash("sha256").update(body).digest("hex");

/** The summary's first SUMMARY_PREVIEW_CHARS characters, never ending in half a surrogate pair. Pure. */
export function previewOf(summary: string | undefined): string | undefined {
  if (summary === undefined || summary.length <= SUMMARY_PREVIEW_CHARS) return summary;
  const cut = summary.slice(0, SUMMARY_PREVIEW_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** The object to store for a result whose summary + handoff JSON exceeds INLINE_RESULT_BYTES; undefined: it travels inline. Pure. */
export function storedBody(out: { summary?: string | undefined; handoff?: unknown }): Uint8Array | undefined {
  if (out.summary === undefined && out.handoff === undefined) return undefined;
  const body = Buffer.from(JSON.stringify({ summary: out.summary, handoff: out.handoff }));
  return body.length > INLINE_RESULT_BYTES ? body : undefined;
}

/**
 * The results store of `names`, opened on first use (the coordinators create the bucket: ensureTopology). Every
 * call retries with backoff (250 ms doubling, at most 4 s); a missing object or a digest mismatch fails at once.
 */
export function openResultsStore(nc: NatsConnection, names: Names, log: Logger): ResultsStore {
  let opened: Promise<ObjectStore> | undefined;
  const bucket = (): Promise<ObjectStore> => {
    opened ??= openObjectStore(nc, names.buckets.results).catch((err: unknown) => {
      opened = undefined;
      throw err;
    });
    return opened;
  };
  return {
    put: (owner, body) => withTries(STORE_TRIES.put, `writing ${names.buckets.results}`, log, () => putOnce(bucket, resultKey(owner, sha256Hex(body)), body)),
    get: (ref) => withTries(STORE_TRIES.get, `reading ${ref.key} from ${names.buckets.results}`, log, () => getOnce(bucket, ref)),
  };
}

async function putOnce(bucket: () => Promise<ObjectStore>, key: string, body: Uint8Array): Promise<StoredRef> {
  const sha256 = sha256Hex(body);
  const store = await bucket();
  const existing = await store.info(key);
  const digest = `SHA-256=${Buffer.from(sha256, "hex").toString("base64url")}`;
  // the same name is the same content (the name holds its digest): a retry or redelivery need not write it again
  if (!existing || existing.deleted || existing.size !== body.length || existing.digest.replace(/=+$/, "") !== digest) {
    await store.putBlob({ name: key }, body);
  }
  return { key, bytes: body.length, sha256 };
}

async function getOnce(bucket: () => Promise<ObjectStore>, ref: StoredRef): Promise<Uint8Array> {
  const store = await bucket();
  const body = await store.getBlob(ref.key);
  if (!body) throw new ResultStoreError(`stored result ${ref.key} is missing (expired, or never written)`);
  const sha256 = sha256Hex(body);
  if (body.length !== ref.bytes || sha256 !== ref.sha256) {
    throw new ResultStoreError(`stored result ${ref.key} is corrupt: ${body.length} bytes with sha256 ${sha256}, expected ${ref.bytes} bytes with sha256 ${ref.sha256}`);
  }
  return body;
}

/** Runs `once` up to `tries` times; a ResultStoreError (a definite answer) is not retried. Rejects with ResultStoreError. */
async function withTries<T>(tries: number, what: string, log: Logger, once: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once();
    } catch (err) {
      if (err instanceof ResultStoreError) throw err;
      if (attempt >= tries) throw new ResultStoreError(`${what} failed ${tries} times: ${(err as Error).message}`, { cause: err });
      const delay = Math.min(4000, 250 * 2 ** (attempt - 1));
      log.warn({ err, retryInMs: delay }, `${what} failed; retrying`);
      await sleep(delay);
    }
  }
}

/** A stored object's contents, validated. Throws ResultStoreError when it is not a stored result. */
export function readStoredResult(ref: StoredRef, body: Uint8Array): StoredResult {
  try {
    return decode(StoredResult, body, `stored result ${ref.key}`);
  } catch (err) {
    throw new ResultStoreError((err as Error).message, { cause: err });
  }
}

/**
 * `task` with every stored handoff read from the store and inlined (the whole summary and handoff, without
 * `stored`), so executors see full handoffs; `task` itself when none is stored. Never rejects: a handoff that
 * cannot be read (missing, corrupt, store unreachable) gives a ResultStore error naming its task.
 */
export async function resolveHandoffs(task: TaskAssigned, store: Pick<ResultsStore, "get">): Promise<{ task: TaskAssigned } | { error: WireError }> {
  if (!task.handoffs.some((entry) => entry.stored)) return { task };
  const resolveOne = async (entry: Handoff): Promise<Handoff> => {
    if (!entry.stored) return entry;
    try {
      const full = readStoredResult(entry.stored, await store.get(entry.stored));
      const { stored: _ref, summary: _preview, handoff: _none, ...rest } = entry;
      return { ...rest, ...(full.summary === undefined ? {} : { summary: full.summary }), ...(full.handoff === undefined ? {} : { handoff: full.handoff }) };
    } catch (err) {
      throw new ResultStoreError(`the handoff of task ${entry.taskId} could not be read: ${(err as Error).message}`, { cause: err });
    }
  };
  try {
    return { task: { ...task, handoffs: await Promise.all(task.handoffs.map(resolveOne)) } };
  } catch (err) {
    return { error: wireError("ResultStore", (err as Error).message) };
  }
}

/**
 * What replaces a result's summary and handoff on the wire: nothing (`{}`: they travel inline, or there is no
 * store), or — when they exceed INLINE_RESULT_BYTES — the stored object's reference, the summary's preview and no
 * handoff, once the object is written. Undefined when the write failed after its tries (publish nothing then).
 */
export async function offloadResult(
  store: Pick<ResultsStore, "put"> | undefined,
  owner: ResultOwner,
  out: { summary?: string | undefined; handoff?: unknown },
  log: Logger,
): Promise<{ summary?: string | undefined; handoff?: undefined; stored?: StoredRef } | undefined> {
  const body = store ? storedBody(out) : undefined;
  if (!store || !body) return {};
  try {
    const stored = await store.put(owner, body);
    log.debug({ key: stored.key, bytes: stored.bytes }, "result stored in the results bucket");
    return { summary: previewOf(out.summary), handoff: undefined, stored };
  } catch (err) {
    log.error({ err, bytes: body.length }, "the result could not be stored");
    return undefined;
  }
}
