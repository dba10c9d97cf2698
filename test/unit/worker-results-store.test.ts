// The worker's side of results out of the snapshot, without NATS: which results are stored, what the result
// message then carries, that nothing is published when the store write fails, and how stored handoffs are read back.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { JetStreamClient } from "@nats-io/jetstream";
import { silentLogger } from "../../shared/logging.ts";
import { SUMMARY_PREVIEW_CHARS, type StoredRef, type TaskAssigned } from "../../shared/protocol/index.ts";
import { names, resultKey } from "../../shared/subjects.ts";
import { INLINE_RESULT_BYTES, previewOf, resolveHandoffs, ResultStoreError, storedBody, type ResultOwner, type ResultsStore } from "../../services/worker/results-store.ts";
import { taskMessages, type TaskMessageRef } from "../../services/worker/task-messages.ts";

const sha = (body: Uint8Array | string) => createHash("sha256").update(body).digest("hex");

/** A results store in memory, keyed like the real one; `failing` makes every put reject. */
function memoryStore(failing = false) {
  const objects = new Map<string, Uint8Array>();
  const store: ResultsStore = {
    async put(owner: ResultOwner, body: Uint8Array): Promise<StoredRef> {
      if (failing) throw new ResultStoreError("writing failed 5 times: no responders");
      const key = resultKey(owner, sha(body));
      objects.set(key, body);
      return { key, bytes: body.length, sha256: sha(body) };
    },
    async get(ref: StoredRef): Promise<Uint8Array> {
      const body = objects.get(ref.key);
      if (!body) throw new ResultStoreError(`stored result ${ref.key} is missing (expired, or never written)`);
      return body;
    },
  };
  return { store, objects };
}

function recorder() {
  const published: Record<string, unknown>[] = [];
  const js = {
    publish: async (_subject: string, data: Uint8Array) => {
      published.push(JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>);
      return { duplicate: false, seq: published.length, stream: "RESULTS" };
    },
  } as unknown as JetStreamClient;
  return { js, published };
}

const ref: TaskMessageRef = { featureId: "todos-1", taskId: "api", attempt: 2, role: "backend", workerId: "w1" };
const messagesWith = (js: JetStreamClient, store: ResultsStore) =>
  taskMessages({ js, names: names("baton"), ref, delivery: 1, startedAt: "2025-01-01T12:00:00.000Z", log: silentLogger, store });

describe("which results are stored", () => {
  it("summary + handoff over INLINE_RESULT_BYTES of JSON are stored; smaller ones, and none, travel inline", () => {
    expect(storedBody({})).toBeUndefined();
    expect(storedBody({ summary: "done", handoff: { files: ["a.ts"] } })).toBeUndefined();
    const fits = "x".repeat(INLINE_RESULT_BYTES - JSON.stringify({ summary: "" }).length);
    expect(storedBody({ summary: fits })).toBeUndefined();
    const body = storedBody({ summary: `${fits}x`, handoff: undefined });
    expect(body?.length).toBe(INLINE_RESULT_BYTES + 1);
  });

  it("a preview is the summary's first characters, never half a surrogate pair", () => {
    expect(previewOf(undefined)).toBeUndefined();
    expect(previewOf("short")).toBe("short");
    expect(previewOf("y".repeat(SUMMARY_PREVIEW_CHARS + 5))).toHaveLength(SUMMARY_PREVIEW_CHARS);
    const split = `${"y".repeat(SUMMARY_PREVIEW_CHARS - 1)}😀tail`; // the emoji's high surrogate is the last char kept
    expect(previewOf(split)).toBe("y".repeat(SUMMARY_PREVIEW_CHARS - 1));
  });

  it("object names: the result's feature, task, attempt (and gate run), and the content's digest", () => {
    const digest = sha("x");
    expect(resultKey(ref, digest)).toBe(`todos-1.api.2.${digest.slice(0, 16)}`);
    expect(resultKey({ ...ref, gate: { scope: "task", name: "review", run: 3 } }, digest)).toBe(`todos-1.api.2.gate.task.review.3.${digest.slice(0, 16)}`);
    expect(() => resultKey({ ...ref, taskId: "a.b" }, digest)).toThrow(/invalid task id/);
  });
});

describe("a large result", () => {
  it("is written to the store before its result, which carries the reference, the summary's preview and no handoff", async () => {
    const { js, published } = recorder();
    const { store, objects } = memoryStore();
    const summary = "s".repeat(10_000);
    const handoff = { blob: "h".repeat(600 * 1024) };
    expect(await messagesWith(js, store).result({ outcome: "completed", exitCode: 0, summary, handoff })).toBe(true);
    const [key, body] = [...objects][0]!;
    expect(JSON.parse(Buffer.from(body).toString())).toEqual({ summary, handoff });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ outcome: "completed", summary: "s".repeat(SUMMARY_PREVIEW_CHARS), stored: { key, bytes: body.length, sha256: sha(body) } });
    expect(published[0]!.handoff).toBeUndefined();
    expect(JSON.stringify(published[0]).length).toBeLessThan(4 * 1024);
  });

  it("whose store write fails is not published (the task stays unacked and comes back)", async () => {
    const { js, published } = recorder();
    const ok = await messagesWith(js, memoryStore(true).store).result({ outcome: "completed", exitCode: 0, handoff: { blob: "h".repeat(10_000) } });
    expect(ok).toBe(false);
    expect(published).toEqual([]);
  });

  it("a small result is published inline and nothing is stored", async () => {
    const { js, published } = recorder();
    const { store, objects } = memoryStore();
    await messagesWith(js, store).result({ outcome: "completed", exitCode: 0, summary: "done", handoff: { files: ["a.ts"] } });
    expect(objects.size).toBe(0);
    expect(published[0]).toMatchObject({ summary: "done", handoff: { files: ["a.ts"] } });
    expect(published[0]!.stored).toBeUndefined();
  });
});

describe("stored handoffs", () => {
  const task = (handoffs: TaskAssigned["handoffs"]): TaskAssigned => ({
    type: "baton.v1.task_assigned", featureId: "todos-1", taskId: "ui", attempt: 1, role: "frontend", title: "ui",
    dependsOn: handoffs.map((h) => h.taskId), feature: { title: "f" }, handoffs, dispatchedAt: "2025-01-01T12:00:00.000Z",
  });

  it("are read back whole and inlined; inline ones are left as they are", async () => {
    const { store } = memoryStore();
    const summary = "s".repeat(10_000);
    const handoff = { blob: "h".repeat(100_000) };
    const stored = await store.put({ ...ref, attempt: 1 }, Buffer.from(JSON.stringify({ summary, handoff })));
    const resolved = await resolveHandoffs(task([{ taskId: "api", role: "backend", summary: summary.slice(0, 10), stored }, { taskId: "db", role: "backend", summary: "ok", handoff: 1 }]), store);
    expect("task" in resolved && resolved.task.handoffs).toEqual([{ taskId: "api", role: "backend", summary, handoff }, { taskId: "db", role: "backend", summary: "ok", handoff: 1 }]);
  });

  it("a missing one fails with RESULT_STORE naming the dependency", async () => {
    const { store } = memoryStore();
    const resolved = await resolveHandoffs(task([{ taskId: "api", role: "backend", stored: { key: "todos-1.api.1.0123456789abcdef", bytes: 10, sha256: "b".repeat(64) } }]), store);
    expect(resolved).toEqual({ error: expect.objectContaining({ name: "ResultStore", code: "RESULT_STORE", message: expect.stringMatching(/^the handoff of task api could not be read: stored result todos-1\.api\.1\.0123456789abcdef is missing/) }) });
  });

  it("one that is not a stored result fails with RESULT_STORE", async () => {
    const { store } = memoryStore();
    const stored = await store.put(ref, Buffer.from(JSON.stringify({ unexpected: true })));
    const resolved = await resolveHandoffs(task([{ taskId: "api", role: "backend", stored }]), store);
    expect("error" in resolved && resolved.error).toMatchObject({ code: "RESULT_STORE", message: expect.stringContaining("failed validation") });
  });
});
