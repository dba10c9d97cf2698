// The dashboard's pure parts: who gets in (tokens, cookies, hosts), what a request body may hold, where `baton ui`
// may serve, the DAG's layout, the workers panel's rows, and status subjects.
import { describe, expect, it } from "vitest";
import { roleRows } from "../../services/ui/api.ts";
import { authorize, cookieValue, hostName, TOKEN_COOKIE, tokensEqual } from "../../services/ui/auth.ts";
import { layoutDag, NODE_HEIGHT, NODE_WIDTH } from "../../services/ui/layout.ts";
import { AnswerBody, BadRequest, ControlBody, parseBody } from "../../services/ui/schemas.ts";
import { refusal, serveSettings, UiUsageError } from "../../services/ui/settings.ts";
import { parseStatusSubject } from "../../services/ui/sse.ts";
import type { WorkerHeartbeat } from "../../shared/client/index.ts";

const TOKEN = "a-token-of-twenty-chars";
const url = (path: string) => new URL(path, "http://dashboard.invalid");

describe("who gets in", () => {
  it("compares tokens whatever their lengths", () => {
    expect(tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(tokensEqual(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokensEqual("", TOKEN)).toBe(false);
  });

  it("reads a cookie and a Host header's name", () => {
    expect(cookieValue(`theme=dark; ${TOKEN_COOKIE}=a%20b; other=1`, TOKEN_COOKIE)).toBe("a b");
    expect(cookieValue("theme=dark", TOKEN_COOKIE)).toBeUndefined();
    expect(cookieValue(`${TOKEN_COOKIE}=%E0%A4%A`, TOKEN_COOKIE)).toBeUndefined();
    expect(hostName("[::1]:7420")).toBe("[::1]");
    expect(hostName("localhost:7420")).toBe("localhost");
    expect(hostName("127.0.0.1")).toBe("127.0.0.1");
  });

  it("without a token: only requests naming a loopback host (no DNS rebinding)", () => {
    expect(authorize({ host: "127.0.0.1:7420", url: url("/") }, undefined)).toEqual({ ok: true });
    expect(authorize({ host: "localhost:7420", url: url("/api/features") }, undefined)).toEqual({ ok: true });
    expect(authorize({ host: "[::1]:7420", url: url("/") }, undefined)).toEqual({ ok: true });
    expect(authorize({ host: "evil.example:7420", url: url("/") }, undefined)).toMatchObject({ ok: false, status: 403 });
    expect(authorize({ url: url("/") }, undefined)).toMatchObject({ ok: false, status: 403 });
  });

  it("with a token: the Bearer header, the cookie, or ?token= (which sets the HttpOnly cookie); else 401", () => {
    const host = "10.0.0.5:7420";
    expect(authorize({ host, url: url("/api/features") }, TOKEN)).toMatchObject({ ok: false, status: 401 });
    expect(authorize({ host, authorization: `Bearer ${TOKEN}`, url: url("/") }, TOKEN)).toEqual({ ok: true });
    expect(authorize({ host, authorization: "Bearer wrong-token-wrong-token", url: url("/") }, TOKEN)).toMatchObject({ ok: false, status: 401 });
    expect(authorize({ host, authorization: TOKEN, url: url("/") }, TOKEN)).toMatchObject({ ok: false });
    expect(authorize({ host, cookie: `${TOKEN_COOKIE}=${TOKEN}`, url: url("/") }, TOKEN)).toEqual({ ok: true });
    const visit = authorize({ host, url: url(`/?token=${TOKEN}`) }, TOKEN);
    expect(visit).toEqual({ ok: true, setCookie: `${TOKEN_COOKIE}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/` });
    expect(authorize({ host, url: url("/?token=nope") }, TOKEN)).toMatchObject({ ok: false, status: 401 });
    // a token also guards a loopback bind when one is set
    expect(authorize({ host: "127.0.0.1:7420", url: url("/") }, TOKEN)).toMatchObject({ ok: false, status: 401 });
  });
});

describe("request bodies", () => {
  const message = (run: () => unknown) => {
    try {
      run();
    } catch (err) {
      expect(err).toBeInstanceOf(BadRequest);
      return (err as BadRequest).message;
    }
    throw new Error("accepted");
  };

  it("accepts the buttons' verbs; reject needs a reason; nothing else gets through", () => {
    expect(parseBody(ControlBody, { verb: "approve", by: " ana " }, "control")).toEqual({ verb: "approve", by: "ana" });
    expect(parseBody(ControlBody, { verb: "reject", reason: "too big" }, "control")).toEqual({ verb: "reject", reason: "too big" });
    expect(message(() => parseBody(ControlBody, { verb: "reject" }, "control"))).toBe("control: reason: reject needs a reason (it is recorded with the rejection)");
    expect(message(() => parseBody(ControlBody, { verb: "budget" }, "control"))).toMatch(/^control: verb: /);
    expect(message(() => parseBody(ControlBody, { verb: "pause", extra: 1 }, "control"))).toMatch(/extra/);
    expect(message(() => parseBody(ControlBody, "pause", "control"))).toMatch(/^control: /);
  });

  it("an answer names its question and is not empty", () => {
    expect(parseBody(AnswerBody, { questionId: "q2", answer: "cursors" }, "answer")).toEqual({ questionId: "q2", answer: "cursors" });
    expect(message(() => parseBody(AnswerBody, { questionId: "2", answer: "x" }, "answer"))).toBe("answer: questionId: must be q1, q2, …");
    expect(message(() => parseBody(AnswerBody, { questionId: "q1", answer: "" }, "answer"))).toMatch(/^answer: answer: /);
  });
});

describe("where baton ui serves", () => {
  const ui = { host: "127.0.0.1", port: 7420 };
  it("takes --host and --port over the config, and refuses a port that is not one", () => {
    expect(serveSettings(ui, {})).toEqual({ host: "127.0.0.1", port: 7420, token: undefined });
    expect(serveSettings({ ...ui, token: TOKEN }, { host: "0.0.0.0", port: "0" })).toEqual({ host: "0.0.0.0", port: 0, token: TOKEN });
    expect(() => serveSettings(ui, { port: "70000" })).toThrow(UiUsageError);
    expect(() => serveSettings(ui, { port: "80a" })).toThrow(/--port must be an integer from 0 to 65535/);
  });

  it("refuses a non-loopback address without a token, naming the remedy", () => {
    expect(refusal({ host: "127.0.0.1", port: 1 })).toBeUndefined();
    expect(refusal({ host: "localhost", port: 1 })).toBeUndefined();
    expect(refusal({ host: "0.0.0.0", port: 1, token: TOKEN })).toBeUndefined();
    expect(refusal({ host: "0.0.0.0", port: 1 })).toMatch(/without a token[^]*BATON_UI_TOKEN/);
  });
});

describe("the DAG's layout", () => {
  const task = (id: string, dependsOn: string[] = []) => ({ id, dependsOn });
  const place = (layout: ReturnType<typeof layoutDag>, id: string) => layout.nodes.find((node) => node.id === id)!;

  it("puts each task one column right of its deepest dependency, in input order", () => {
    const layout = layoutDag([task("a"), task("b"), task("c", ["a"]), task("d", ["a", "c"]), task("e", ["b"])]);
    expect(layout.nodes.map((node) => [node.id, node.layer])).toEqual([["a", 0], ["b", 0], ["c", 1], ["d", 2], ["e", 1]]);
    expect(layout.edges).toEqual([{ from: "a", to: "c" }, { from: "a", to: "d" }, { from: "c", to: "d" }, { from: "b", to: "e" }]);
    expect(place(layout, "c").x).toBeGreaterThan(place(layout, "a").x + NODE_WIDTH);
    expect(layout.width).toBeGreaterThanOrEqual(place(layout, "d").x + NODE_WIDTH);
    expect(layout.height).toBeGreaterThanOrEqual(Math.max(...layout.nodes.map((node) => node.y + NODE_HEIGHT)));
  });

  it("orders a column by its tasks' dependencies' rows, so edges do not cross needlessly", () => {
    const layout = layoutDag([task("top"), task("bottom"), task("fromBottom", ["bottom"]), task("fromTop", ["top"])]);
    expect(place(layout, "fromTop").order).toBe(0);
    expect(place(layout, "fromBottom").order).toBe(1);
    expect(place(layout, "fromTop").y).toBe(place(layout, "top").y);
  });

  it("ignores unknown dependencies, survives a cycle, gives nothing for nothing, and is deterministic", () => {
    expect(layoutDag([task("a", ["ghost"])]).nodes).toEqual([expect.objectContaining({ id: "a", layer: 0 })]);
    expect(layoutDag([task("a", ["b"]), task("b", ["a"])]).nodes).toHaveLength(2);
    expect(layoutDag([])).toMatchObject({ nodes: [], edges: [], width: 0, height: 0 });
    const tasks = [task("x"), task("y", ["x"]), task("z", ["x"]), task("w", ["y", "z"])];
    expect(layoutDag(tasks)).toEqual(layoutDag(tasks));
  });
});

describe("workers per role, status subjects", () => {
  const worker = (role: string, workerId: string, slots: number, busy: number) => ({ role, workerId, slots, busy }) as WorkerHeartbeat;

  it("groups live workers by role beside each role's backlog, also a role with a backlog and no worker", () => {
    const rows = roleRows([worker("api", "api-1", 2, 1), worker("api", "api-2", 4, 0), worker("qa", "qa-1", 1, 1)], [
      { role: "api", pending: 3, inFlight: 1, redelivered: 0, waitingPulls: 2 },
      { role: "docs", pending: 5, inFlight: 0, redelivered: 0, waitingPulls: 0 },
    ]);
    expect(rows.map((row) => [row.role, row.workers.length, row.busy, row.slots, row.backlog?.pending])).toEqual([
      ["api", 2, 1, 6, 3], ["docs", 0, 0, 0, 5], ["qa", 1, 1, 1, undefined],
    ]);
  });

  it("reads a status subject's feature and kind", () => {
    expect(parseStatusSubject("baton", "baton.status.f1.task.completed")).toEqual({ featureId: "f1", kind: "task.completed" });
    expect(parseStatusSubject("baton", "other.status.f1.task.completed")).toBeUndefined();
    expect(parseStatusSubject("baton", "baton.status.f1")).toBeUndefined();
  });
});
