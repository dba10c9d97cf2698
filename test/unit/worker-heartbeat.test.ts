// What a worker writes as its heartbeat: a valid WorkerHeartbeat (shared/protocol/workers.ts), under a valid KV key.
import { describe, expect, it } from "vitest";
import { WorkerHeartbeat } from "../../shared/protocol/workers.ts";
import { heartbeatBody, heartbeatKey } from "../../services/worker/heartbeat.ts";

describe("the heartbeat", () => {
  const state = { workerId: "backend-host.example-4242", role: "backend", host: "host.example", slots: 2, state: "working", startedAt: "2025-01-01T12:00:00.000Z" };

  it("is a valid WorkerHeartbeat, busy with the tasks it runs", () => {
    const body = heartbeatBody({ ...state, tasks: [{ featureId: "todos-1", taskId: "api" }] }, new Date("2025-01-01T12:00:05.000Z"), 4242);
    expect(WorkerHeartbeat.parse(body)).toEqual({ ...state, pid: 4242, busy: 1, at: "2025-01-01T12:00:05.000Z", tasks: [{ featureId: "todos-1", taskId: "api" }] });
  });

  it("is valid when idle, with this process's pid and the current time by default", () => {
    const body = heartbeatBody({ ...state, state: "idle", tasks: [] });
    expect(WorkerHeartbeat.safeParse(body).success).toBe(true);
    expect(body).toMatchObject({ busy: 0, pid: process.pid });
    expect(Math.abs(Date.parse(body.at) - Date.now())).toBeLessThan(5000);
  });

  it("is written under <role>.<workerId>, with characters KV keys do not allow replaced", () => {
    expect(heartbeatKey("backend", "backend-host.example-4242")).toBe("backend.backend-host_example-4242");
    expect(heartbeatKey("qa", "qa/1=a b:c")).toBe("qa.qa/1=a_b_c");
  });
});
