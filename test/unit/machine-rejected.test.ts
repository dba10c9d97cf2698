// A rejected feature answers every worker message with message.rejected, naming the subject it came on.
import { describe, expect, it } from "vitest";
import { step } from "../../services/coordinator/domain/index.ts";

describe("rejected feature", () => {
  it("answers a worker message with message.rejected on the real subject", () => {
    const at = "2026-01-01T00:00:00.000Z";
    const r1 = step("bad", null, [{ type: "feature.reject", errors: [{ path: "title", message: "required" }], at }]);
    expect(r1.state).toBe("rejected");
    expect(r1.context.outbox.map((e) => e.to === "status" && e.kind)).toEqual(["feature.rejected"]);
    const stored = JSON.parse(JSON.stringify(r1.stored));
    const r2 = step("bad", stored, [{
      type: "task.result", at, subject: "baton.result.bad.a",
      msg: { type: "baton.v1.task_result", featureId: "bad", taskId: "a", attempt: 1, role: "qa", workerId: "w", outcome: "completed", startedAt: at, finishedAt: at },
    }]);
    const last = r2.context.outbox.at(-1)!;
    expect(last.to === "status" && last.payload).toMatchObject({ kind: "message.rejected", subject: "baton.result.bad.a", taskId: "a", seq: 2 });
    expect(r2.state).toBe("rejected");
  });
});
