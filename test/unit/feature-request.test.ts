// Feature-request validation: every way a request can be bad yields a specific path and message.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkFeatureRequest, checkFeatureValue, formatPath, graphIssues, type RequestCheck } from "../../shared/protocol/feature.ts";

const LIMITS = { maxBytes: 256 * 1024 };
const TOKEN_MESSAGE = "must be 1-64 characters of [A-Za-z0-9_-] (it becomes a NATS subject token)";

type Task = { id: string; role: string; title: string; dependsOn?: string[]; instructions?: string };
const task = (id: string, dependsOn?: string[]): Task => ({ id, role: "backend", title: `do ${id}`, ...(dependsOn ? { dependsOn } : {}) });
const request = (over: Record<string, unknown> = {}) => ({ id: "feat-1", title: "A feature", tasks: [task("a"), task("b", ["a"])], ...over });
const check = (value: unknown, limits: Parameters<typeof checkFeatureRequest>[1] = LIMITS) => checkFeatureRequest(JSON.stringify(value), limits);

function errorsOf(r: RequestCheck) {
  if (r.ok) throw new Error(`expected a rejection, got ok: ${JSON.stringify(r.value)}`);
  return r.errors;
}

describe("checkFeatureRequest accepts", () => {
  it("a valid request and returns the typed value", () => {
    const req = request({ description: "why", workspace: "/srv/repo", maxParallel: 2, type: "baton.v1.feature_request" });
    const r = check(req, { ...LIMITS, roles: ["backend"] });
    expect(r).toEqual({ ok: true, value: req });
  });

  it("bytes as well as text, and a request without an id", () => {
    const { id: _id, ...noId } = request();
    const r = checkFeatureRequest(new TextEncoder().encode(JSON.stringify(noId)), LIMITS);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.id).toBeUndefined();
  });

  it("any well-formed role when no role list is given", () => {
    const r = check(request({ tasks: [{ ...task("a"), role: "made-up_role" }] }));
    expect(r.ok).toBe(true);
  });

  it("ids of exactly 64 characters", () => {
    const long = "x".repeat(64);
    expect(check(request({ id: long, tasks: [task(long)] })).ok).toBe(true);
  });
});

describe("checkFeatureRequest rejects", () => {
  it("malformed JSON, naming the parse error at the root", () => {
    for (const raw of ["{nope", "", '{"title": "x",}']) {
      const errors = errorsOf(checkFeatureRequest(raw, LIMITS));
      expect(errors).toHaveLength(1);
      expect(errors[0]!.path).toBe("(root)");
      expect(errors[0]!.message).toMatch(/^malformed JSON: .+/);
    }
  });

  it("JSON that is not an object", () => {
    for (const raw of ["null", "[]", "42", '"feature"']) {
      const errors = errorsOf(checkFeatureRequest(raw, LIMITS));
      expect(errors).toEqual([{ path: "(root)", message: expect.stringMatching(/expected object/) }]);
    }
  });

  it("a missing title", () => {
    const { title: _t, ...req } = request();
    expect(errorsOf(check(req))).toEqual([{ path: "title", message: expect.stringMatching(/expected string, received undefined/) }]);
  });

  it("an empty title", () => {
    expect(errorsOf(check(request({ title: "" })))).toEqual([{ path: "title", message: expect.stringMatching(/>=1 characters/) }]);
  });

  it("wrong types, each at its own path", () => {
    const errors = errorsOf(check(request({ title: 5, maxParallel: "2", tasks: [{ ...task("a"), dependsOn: "b", title: ["t"] }] })));
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: "title", message: expect.stringMatching(/expected string, received number/) },
        { path: "maxParallel", message: expect.stringMatching(/expected number, received string/) },
        { path: "tasks[0].title", message: expect.stringMatching(/expected string, received array/) },
        { path: "tasks[0].dependsOn", message: expect.stringMatching(/expected array, received string/) },
      ]),
    );
    expect(errors).toHaveLength(4);
  });

  it("a non-integer maxParallel", () => {
    expect(errorsOf(check(request({ maxParallel: 1.5 })))).toEqual([{ path: "maxParallel", message: expect.stringMatching(/expected int/) }]);
  });

  it("maxParallel 0", () => {
    expect(errorsOf(check(request({ maxParallel: 0 })))).toEqual([{ path: "maxParallel", message: expect.stringMatching(/>=1/) }]);
  });

  it("unknown extra fields (the schema is strict) at the root and inside a task", () => {
    const errors = errorsOf(check(request({ extra: 1, tasks: [{ ...task("a"), bogus: true }] })));
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: "extra", message: 'unknown field "extra"' },
        { path: "tasks[0].bogus", message: 'unknown field "bogus"' },
      ]),
    );
    expect(errors).toHaveLength(2);
  });

  it("a wrong version tag", () => {
    expect(errorsOf(check(request({ type: "baton.v2.feature_request" })))).toEqual([{ path: "type", message: expect.any(String) }]);
  });

  it("an empty task list", () => {
    expect(errorsOf(check(request({ tasks: [] })))).toEqual([{ path: "tasks", message: "a feature needs at least one task" }]);
  });

  it("a missing task list", () => {
    const { tasks: _t, ...req } = request();
    expect(errorsOf(check(req))).toEqual([{ path: "tasks", message: 'a feature needs tasks, a template, or plan: "auto" (with a goal)' }]);
  });

  it.each([
    ["a dot", "a.b"],
    ["a space", "a b"],
    ["a wildcard *", "a*"],
    ["a wildcard >", ">"],
    ["65 characters", "x".repeat(65)],
    ["nothing", ""],
  ])("a feature id and a task id with %s", (_what, bad) => {
    const errors = errorsOf(check(request({ id: bad, tasks: [task("ok"), task(bad)] })));
    expect(errors).toEqual([
      { path: "id", message: TOKEN_MESSAGE },
      { path: "tasks[1].id", message: TOKEN_MESSAGE },
    ]);
  });

  it("an invalid id inside dependsOn", () => {
    expect(errorsOf(check(request({ tasks: [task("a"), task("b", ["a.x"])] })))).toEqual([
      { path: "tasks[1].dependsOn[0]", message: TOKEN_MESSAGE },
    ]);
  });

  it("an invalid role", () => {
    expect(errorsOf(check(request({ tasks: [{ ...task("a"), role: "back end" }] })))).toEqual([
      { path: "tasks[0].role", message: TOKEN_MESSAGE },
    ]);
  });

  it("an unknown role when the known roles are given, naming the role and the known ones", () => {
    const errors = errorsOf(check(request({ tasks: [task("a"), { ...task("b"), role: "wizard" }] }), { ...LIMITS, roles: ["backend", "qa"] }));
    expect(errors).toEqual([{ path: "tasks[1].role", message: 'unknown role "wizard" (known roles: backend, qa)' }]);
  });

  it("a workspace that is not absolute", () => {
    for (const workspace of ["relative/dir", "./here", "~/repo", ""]) {
      expect(errorsOf(check(request({ workspace })))).toEqual([{ path: "workspace", message: "must be an absolute path" }]);
    }
  });

  it("an unknown dependsOn id", () => {
    expect(errorsOf(check(request({ tasks: [task("a"), task("b", ["a", "zzz"])] })))).toEqual([
      { path: "tasks[1].dependsOn[1]", message: 'unknown task id "zzz" in dependsOn of "b"' },
    ]);
  });

  it("duplicate task ids, pointing at the first use", () => {
    expect(errorsOf(check(request({ tasks: [task("a"), task("b"), task("a")] })))).toEqual([
      { path: "tasks[2].id", message: 'duplicate task id "a" (first used by tasks[0])' },
    ]);
  });

  it("a self-dependency", () => {
    expect(errorsOf(check(request({ tasks: [task("a"), task("b", ["a", "b"])] })))).toEqual([
      { path: "tasks[1].dependsOn[1]", message: 'task "b" depends on itself' },
    ]);
  });

  it("a dependency cycle, named in dependsOn direction (a dependsOn c dependsOn b dependsOn a)", () => {
    // b needs a, c needs b, a needs c
    const errors = errorsOf(check(request({ tasks: [task("a", ["c"]), task("b", ["a"]), task("c", ["b"])] })));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toMatch(/^tasks\[[0-2]\]\.dependsOn$/);
    expect(errors[0]!.message).toContain("cycle");
    for (const id of ["a", "b", "c"]) expect(errors[0]!.message).toContain(`${id}`);
    expect(cyclesIn(errors.map((e) => e.message))).toHaveLength(1);
    expect(isCycleOf(cyclesIn([errors[0]!.message])[0]!, new Map([["a", ["c"]], ["b", ["a"]], ["c", ["b"]]]))).toBe(true);
  });

  it("two separate cycles, each reported", () => {
    const tasks = [task("a", ["b"]), task("b", ["a"]), task("ok"), task("c", ["d", "ok"]), task("d", ["c"])];
    const errors = errorsOf(check(request({ tasks })));
    expect(errors).toHaveLength(2);
    const cycles = cyclesIn(errors.map((e) => e.message));
    expect(cycles.map((c) => new Set(c))).toEqual(expect.arrayContaining([new Set(["a", "b"]), new Set(["c", "d"])]));
  });

  it("a payload over the size limit, naming both sizes, before parsing anything", () => {
    const raw = JSON.stringify(request({ description: "é".repeat(100) })); // é is two bytes
    const bytes = Buffer.byteLength(raw);
    const errors = errorsOf(checkFeatureRequest(raw, { maxBytes: bytes - 1 }));
    expect(errors).toEqual([{ path: "(root)", message: `request is ${bytes} bytes; the limit is ${bytes - 1} bytes` }]);
    expect(checkFeatureRequest(raw, { maxBytes: bytes }).ok).toBe(true);
    // bytes, not characters; and oversize wins over malformed
    expect(errorsOf(checkFeatureRequest(new TextEncoder().encode("{".repeat(20)), { maxBytes: 10 }))[0]!.message).toBe(
      "request is 20 bytes; the limit is 10 bytes",
    );
  });

  it("graph problems together with schema problems", () => {
    const errors = errorsOf(check(request({ title: "", tasks: [task("a", ["b"]), task("b", ["a"])] })));
    expect(errors).toEqual([
      { path: "title", message: expect.stringMatching(/>=1 characters/) },
      { path: "tasks[0].dependsOn", message: "dependency cycle: a dependsOn b dependsOn a" },
    ]);
  });

  // BUG (feature.ts checkFeatureValue/looseTasks): when the schema fails, graphIssues runs on the
  // tasks filtered down to those with a valid id, so its `tasks[i]` indices count the filtered list.
  it("graph problems at the task's position in the request, even after a malformed task", () => {
    const tasks = [{ ...task("x"), id: "bad id" }, task("b", ["b"]), task("c", ["zzz"]), task("b")];
    const errors = errorsOf(check(request({ tasks })));
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: "tasks[0].id", message: TOKEN_MESSAGE },
        { path: "tasks[3].id", message: 'duplicate task id "b" (first used by tasks[1])' },
        { path: "tasks[1].dependsOn[0]", message: 'task "b" depends on itself' },
        { path: "tasks[2].dependsOn[0]", message: 'unknown task id "zzz" in dependsOn of "c"' },
      ]),
    );
    expect(errors).toHaveLength(4);
  });

  // BUG (same place): invalid dependsOn entries are filtered out before graphIssues numbers them.
  it("graph problems at the dependsOn position, even after a malformed entry", () => {
    const errors = errorsOf(check(request({ tasks: [task("a"), task("b", ["a.x", "zzz"])] })));
    expect(errors).toEqual([
      { path: "tasks[1].dependsOn[0]", message: TOKEN_MESSAGE },
      { path: "tasks[1].dependsOn[1]", message: 'unknown task id "zzz" in dependsOn of "b"' },
    ]);
  });

  it("and reports every problem at once", () => {
    const errors = errorsOf(check(request({ title: "", maxParallel: 0, workspace: "rel", tasks: [{ ...task("a"), role: "x y" }] })));
    expect(errors.map((e) => e.path).sort()).toEqual(["maxParallel", "tasks[0].role", "title", "workspace"]);
  });
});

describe("the id of a rejected request", () => {
  it("is returned when it could be read (schema, role and graph failures)", () => {
    expect(check(request({ title: "" }))).toMatchObject({ ok: false, id: "feat-1" });
    expect(check(request({ tasks: [task("a", ["a"])] }))).toMatchObject({ ok: false, id: "feat-1" });
    expect(check(request({ tasks: [{ ...task("a"), role: "r" }] }), { ...LIMITS, roles: ["backend"] })).toMatchObject({ ok: false, id: "feat-1" });
  });

  it("is absent when it is missing, invalid, or the input is unreadable", () => {
    const { id: _id, ...noId } = request({ title: "" });
    for (const r of [
      check(noId),
      check(request({ id: "bad id", title: "" })),
      check(request({ id: 42 })),
      checkFeatureRequest('{"id":"feat-1",', LIMITS),
      checkFeatureRequest(JSON.stringify(request()), { maxBytes: 10 }),
    ]) {
      expect(r.ok).toBe(false);
      expect(r).not.toHaveProperty("id");
    }
  });
});

describe("checkFeatureValue", () => {
  it("validates an already-parsed value without a size limit", () => {
    const big = request({ description: "x".repeat(50_000) });
    expect(checkFeatureValue(big, {})).toEqual({ ok: true, value: big });
    expect(checkFeatureValue(request({ tasks: [] }), {})).toMatchObject({ ok: false, id: "feat-1" });
  });
});

describe("formatPath", () => {
  it("formats zod paths as JSON paths", () => {
    expect(formatPath([])).toBe("(root)");
    expect(formatPath(["title"])).toBe("title");
    expect(formatPath(["tasks", 2, "dependsOn", 0])).toBe("tasks[2].dependsOn[0]");
    expect(formatPath([0, "id"])).toBe("[0].id");
    expect(formatPath(["roles", "backend", "exec"])).toBe("roles.backend.exec");
  });
});

// ---- graph properties ----

/** Extracts each `dependency cycle: x -> y -> x` as its list of ids (first id repeated at the end). */
function cyclesIn(messages: string[]): string[][] {
  // "a dependsOn b dependsOn a", read backwards: in execution order, as isCycleOf takes it
  return messages.filter((m) => m.startsWith("dependency cycle: ")).map((m) => m.slice("dependency cycle: ".length).split(" dependsOn ").reverse());
}

/** True when `x -> y` always means y depends on x and the walk returns to its start. */
function isCycleOf(cycle: string[], deps: Map<string, string[]>): boolean {
  if (cycle.length < 3 || cycle[0] !== cycle[cycle.length - 1]) return false;
  for (let k = 0; k + 1 < cycle.length; k++) if (!(deps.get(cycle[k + 1]!) ?? []).includes(cycle[k]!)) return false;
  return true;
}

/** A random DAG: task i depends only on tasks listed before it (deps given as indices mod i). */
const dagArb = fc
  .uniqueArray(fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), { minLength: 1, maxLength: 30 })
  .chain((ids) =>
    fc.tuple(fc.constant(ids), fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: ids.length, maxLength: ids.length })),
  )
  .map(([ids, raw]) => ids.map((id, i) => ({ id, dependsOn: i === 0 ? [] : raw[i]!.map((k) => ids[k % i]!) })));

describe("graphIssues (property)", () => {
  it("never reports anything for a DAG whose tasks depend only on earlier ones", () => {
    fc.assert(
      fc.property(dagArb, (tasks) => {
        expect(graphIssues(tasks)).toEqual([]);
        expect(check({ title: "t", tasks: tasks.map((t) => ({ ...t, role: "r", title: "t" })) }).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("always reports a real cycle through the new edge when a back edge closes one", () => {
    const arb = dagArb
      .filter((tasks) => tasks.some((t) => t.dependsOn.length > 0))
      .chain((tasks) => fc.tuple(fc.constant(tasks), fc.nat(), fc.array(fc.nat(), { minLength: 30, maxLength: 30 })));
    fc.assert(
      fc.property(arb, ([tasks, pick, walk]) => {
        // Start at a task with dependencies and walk down them; the end of the walk is an ancestor.
        const withDeps = tasks.filter((t) => t.dependsOn.length > 0);
        const j = withDeps[pick % withDeps.length]!;
        const byId = new Map(tasks.map((t) => [t.id, t]));
        let i = j;
        for (const w of walk) {
          if (!i.dependsOn.length) break;
          i = byId.get(i.dependsOn[w % i.dependsOn.length]!)!;
        }
        if (i === j) i = byId.get(j.dependsOn[0]!)!;
        const cyclic = tasks.map((t) => (t === i ? { ...t, dependsOn: [...t.dependsOn, j.id] } : t));
        const issues = graphIssues(cyclic);
        expect(issues.length).toBeGreaterThan(0);
        expect(issues.every((x) => x.message.includes("cycle"))).toBe(true);
        const deps = new Map(cyclic.map((t) => [t.id, t.dependsOn]));
        for (const c of cyclesIn(issues.map((x) => x.message))) {
          expect(isCycleOf(c, deps)).toBe(true);
          // The graph was acyclic before, so every cycle uses the new edge i -> j... -> i.
          expect(c).toContain(i.id);
          expect(c).toContain(j.id);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("gate names in a request", () => {
  const req = { title: "t", gates: ["coverage", "nope"], tasks: [{ id: "a", role: "backend", title: "a", gates: ["unit", "lnt"] }] };
  it("are checked against the configured gates, each unknown one reported where it is", () => {
    const r = checkFeatureValue(req, { gates: ["unit", "coverage"] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toEqual([
      { path: "gates[1]", message: `unknown gate "nope" (configured gates: unit, coverage; and "review", the reviewer's verdict)` },
      { path: "tasks[0].gates[1]", message: `unknown gate "lnt" (configured gates: unit, coverage; and "review", the reviewer's verdict)` },
    ]);
  });
  it("say so when no gates are configured at all", () => {
    const r = checkFeatureValue({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", gates: ["unit"] }] }, { gates: [] });
    expect(!r.ok && r.errors[0]!.message).toMatch(/no gates are configured/);
  });
  it("must be tokens, at most 20", () => {
    const bad = checkFeatureValue({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", gates: ["has space"] }] }, {});
    expect(!bad.ok && bad.errors.map((e) => e.path)).toEqual(["tasks[0].gates[0]"]);
    const many = checkFeatureValue({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", gates: Array.from({ length: 21 }, (_, i) => `g${i}`) }] }, {});
    expect(!many.ok && many.errors.map((e) => e.path)).toEqual(["tasks[0].gates"]);
  });
  it("pass when known", () => {
    expect(checkFeatureValue({ ...req, gates: ["coverage"], tasks: [{ ...req.tasks[0], gates: ["unit"] }] }, { gates: ["unit", "coverage"] }).ok).toBe(true);
  });
});

describe("plan: auto", () => {
  it("needs the planner role when the config names roles", () => {
    const result = checkFeatureValue({ title: "t", plan: "auto", goal: "g" }, { roles: ["backend"] });
    expect(result.ok ? [] : result.errors).toEqual([{ path: "plan", message: expect.stringContaining("add roles.planner") }]);
    expect(checkFeatureValue({ title: "t", plan: "auto", goal: "g" }, { roles: ["backend", "planner"] }).ok).toBe(true);
  });
});
