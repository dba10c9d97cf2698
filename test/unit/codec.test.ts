// The codec: decode = parse + validate at the boundary, failing with a ProtocolError that names every problem.
import { describe, expect, it } from "vitest";
import { decode, decodeText, encode, validate } from "../../shared/codec.ts";
import { ProtocolError, toWireError } from "../../shared/errors.ts";
import { TaskResult, WorkerMessage } from "../../shared/protocol/index.ts";

const result: TaskResult = {
  type: "baton.v1.task_result",
  featureId: "feat-1",
  taskId: "api",
  attempt: 1,
  role: "backend",
  workerId: "w-1",
  outcome: "completed",
  startedAt: "2025-01-01T00:00:00.000Z",
  finishedAt: "2025-01-01T00:00:05.000Z",
  summary: "done",
  handoff: { files: ["a.ts"] },
};

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error("expected a ProtocolError, nothing was thrown");
}

describe("decode", () => {
  it("returns the typed value for valid bytes and text", () => {
    expect(decode(TaskResult, encode(result))).toEqual(result);
    expect(decode(TaskResult, JSON.stringify(result))).toEqual(result);
    const m = decode(WorkerMessage, encode(result));
    expect(m.type).toBe("baton.v1.task_result");
  });

  it("applies schema defaults", () => {
    const log = {
      type: "baton.v1.task_log", featureId: "f", taskId: "t", attempt: 1, role: "qa", workerId: "w",
      delivery: 1, batch: 1, stream: "stdout", lines: ["hi"], at: "2025-01-01T00:00:00Z",
    };
    expect(decode(WorkerMessage, encode(log))).toMatchObject({ dropped: 0 });
  });

  it("rejects malformed JSON with a ProtocolError naming what and why", () => {
    for (const raw of ["{nope", "", new TextEncoder().encode('{"a":')]) {
      const e = thrown(() => decode(TaskResult, raw, "worker message"));
      expect(e.name).toBe("ProtocolError");
      expect(e.code).toBe("PROTOCOL");
      expect(e.message).toMatch(/^worker message: malformed JSON: .+/);
      expect(e.issues).toEqual([{ path: "(root)", message: "malformed JSON" }]);
    }
  });

  it("rejects invalid UTF-8 garbage as malformed, not as a crash", () => {
    const e = thrown(() => decode(TaskResult, new Uint8Array([0xff, 0xfe, 0x00])));
    expect(e.message).toMatch(/^message: malformed JSON/);
  });

  it("rejects a schema failure with issues that name each path", () => {
    const bad = { ...result, attempt: 0, taskId: "a.b", outcome: "maybe", finishedAt: "yesterday" };
    const e = thrown(() => decode(TaskResult, encode(bad), "task result"));
    expect(e.issues.map((i) => i.path).sort()).toEqual(["attempt", "finishedAt", "outcome", "taskId"]);
    for (const i of e.issues) expect(i.message.length).toBeGreaterThan(0);
    expect(e.message).toMatch(/^task result failed validation: /);
    // the first three issues are spelled out, the rest counted
    expect(e.message).toMatch(/\(\+1 more\)$/);
    expect(e.message).toContain("attempt: ");
  });

  it("names nested paths in the zod-path format", () => {
    const bad = { ...result, error: { name: "E", message: 5 } };
    const e = thrown(() => decode(TaskResult, encode(bad)));
    expect(e.issues).toEqual([{ path: "error.message", message: expect.stringMatching(/expected string/) }]);
    expect(e.message).toBe(`message failed validation: error.message: ${e.issues[0]!.message}`);
  });

  it("rejects an unknown message type in a discriminated union", () => {
    const e = thrown(() => decode(WorkerMessage, encode({ ...result, type: "baton.v9.nope" })));
    expect(e.issues).toEqual([{ path: "type", message: expect.any(String) }]);
  });

  it("carries its issues across a process boundary as data", () => {
    const e = thrown(() => decode(TaskResult, encode({ ...result, attempt: "1" })));
    const wire = toWireError(e);
    expect(wire).toEqual({ name: "ProtocolError", message: e.message, code: "PROTOCOL", details: e.issues });
    expect(JSON.parse(JSON.stringify(wire))).toEqual(wire);
  });
});

describe("validate / encode / decodeText", () => {
  it("validate checks an already-parsed value", () => {
    expect(validate(TaskResult, result)).toEqual(result);
    expect(thrown(() => validate(TaskResult, null)).issues).toEqual([{ path: "(root)", message: expect.any(String) }]);
  });

  it("encode and decodeText round-trip through UTF-8", () => {
    const v = { text: "héllo ✓" };
    expect(JSON.parse(decodeText(encode(v)))).toEqual(v);
  });
});

describe("handoff size limit", () => {
  it("accepts a handoff up to 1 MiB of JSON and rejects a larger one with a clear message", async () => {
    const { ExecutorOutput, MAX_HANDOFF_BYTES } = await import("../../shared/protocol/index.ts");
    expect(MAX_HANDOFF_BYTES).toBe(1024 * 1024);
    // {"text":"…"} is 11 bytes around the text: exactly the limit passes, one byte more fails
    expect(ExecutorOutput.safeParse({ handoff: { text: "x".repeat(MAX_HANDOFF_BYTES - 11) } }).success).toBe(true);
    const r = ExecutorOutput.safeParse({ handoff: { text: "x".repeat(MAX_HANDOFF_BYTES - 10) } });
    expect(r.success).toBe(false);
    expect(r.success ? "" : r.error.issues[0]!.message).toMatch(/handoff is larger than 1048576 bytes/);
  });
});
