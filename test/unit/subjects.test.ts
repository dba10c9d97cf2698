// Subject, stream, consumer and bucket names: built in one place, every token validated.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidTokenError, isToken, names, TOKEN_RE } from "../../shared/subjects.ts";

const BAD_TOKENS = [
  ["a dot", "a.b"],
  ["a * wildcard", "*"],
  ["a > wildcard", ">"],
  ["an embedded wildcard", "a*b"],
  ["a space", "a b"],
  ["a tab", "a\tb"],
  ["nothing", ""],
  ["65 characters", "x".repeat(65)],
  ["a non-ASCII letter", "café"],
] as const;

describe("isToken", () => {
  it("accepts 1-64 of [A-Za-z0-9_-]", () => {
    for (const s of ["a", "A-9_z", "x".repeat(64), "0", "-", "_"]) expect(isToken(s)).toBe(true);
  });

  it.each(BAD_TOKENS)("rejects %s", (_what, s) => {
    expect(isToken(s)).toBe(false);
  });

  it("rejects non-strings", () => {
    for (const v of [undefined, null, 42, ["a"], { a: 1 }]) expect(isToken(v)).toBe(false);
  });

  it("agrees with TOKEN_RE and never lets a subject separator or wildcard through (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), (s) => {
        expect(isToken(s)).toBe(TOKEN_RE.test(s));
        if (isToken(s)) expect(s).not.toMatch(/[.*>\s]/);
      }),
      { numRuns: 500 },
    );
  });
});

describe("names()", () => {
  const n = names();

  it("builds every subject under the default prefix", () => {
    expect(n.prefix).toBe("baton");
    expect(n.featureSubmit()).toBe("baton.feature.submit");
    expect(n.apiSubmit()).toBe("baton.api.submit");
    expect(n.task("backend")).toBe("baton.task.backend");
    expect(n.taskAll()).toBe("baton.task.>");
    expect(n.result("f-1", "t_2")).toBe("baton.result.f-1.t_2");
    expect(n.resultAll()).toBe("baton.result.>");
    expect(n.control("f-1", "cancel")).toBe("baton.control.f-1.cancel");
    expect(n.controlAll()).toBe("baton.control.>");
    expect(n.status("f-1", "task.completed")).toBe("baton.status.f-1.task.completed");
    expect(n.status("f-1", "feature.accepted")).toBe("baton.status.f-1.feature.accepted");
    expect(n.statusOf("f-1")).toBe("baton.status.f-1.>");
    expect(n.statusAll()).toBe("baton.status.>");
  });

  it("builds streams (the prefix in upper case), consumers, queue and buckets from the prefix", () => {
    const t = names("it-run_7");
    expect(t.streams).toEqual({
      features: "IT-RUN_7_FEATURES",
      tasks: "IT-RUN_7_TASKS",
      results: "IT-RUN_7_RESULTS",
      control: "IT-RUN_7_CONTROL",
      events: "IT-RUN_7_EVENTS",
      journal: "IT-RUN_7_JOURNAL",
    });
    // a valid NATS stream name: no separators, wildcards or whitespace
    for (const s of Object.values(t.streams)) expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(names().streams.tasks).toBe("BATON_TASKS");
    expect(t.consumers.role("qa")).toBe("qa");
    expect(t.coordinatorQueue).toBe("it-run_7-coordinators");
    expect(t.buckets).toEqual({ features: "it-run_7-features", locks: "it-run_7-locks", workers: "it-run_7-workers", coordinators: "it-run_7-coordinators", results: "it-run_7-results" });
    expect(t.task("qa")).toBe("it-run_7.task.qa");
  });

  it("gives different prefixes disjoint streams, buckets and subjects (property)", () => {
    // names() promises that tests with unique prefixes never share streams.
    const prefixArb = fc.stringMatching(/^[a-z][a-z0-9_-]{0,31}$/);
    fc.assert(
      fc.property(prefixArb, prefixArb, (p, q) => {
        fc.pre(p !== q);
        const a = names(p);
        const b = names(q);
        for (const k of Object.keys(a.streams) as (keyof typeof a.streams)[]) expect(a.streams[k]).not.toBe(b.streams[k]);
        for (const k of Object.keys(a.buckets) as (keyof typeof a.buckets)[]) expect(a.buckets[k]).not.toBe(b.buckets[k]);
        expect(a.resultAll()).not.toBe(b.resultAll());
      }),
      { numRuns: 300, examples: [["suite-a", "suite-b"], ["it-1", "it_1"]] },
    );
  });

  it.each([
    ["upper case", "Baton"],
    ["a leading digit", "1baton"],
    ["a leading dash", "-baton"],
    ["a dot", "bat.on"],
    ["a wildcard", "bat*"],
    ["a space", "bat on"],
    ["nothing", ""],
    ["33 characters", "b".repeat(33)],
  ])("rejects a prefix with %s", (_what, prefix) => {
    expect(() => names(prefix)).toThrow(InvalidTokenError);
    expect(() => names(prefix)).toThrow(/invalid prefix/);
  });

  it("accepts a 32-character prefix", () => {
    expect(names("b".repeat(32)).prefix).toBe("b".repeat(32));
  });

  it.each(BAD_TOKENS)("rejects a token with %s in every builder", (_what, bad) => {
    const calls: [string, () => unknown][] = [
      ["role", () => n.task(bad)],
      ["feature id", () => n.result(bad, "t")],
      ["task id", () => n.result("f", bad)],
      ["feature id", () => n.control(bad, "cancel")],
      ["verb", () => n.control("f", bad)],
      ["feature id", () => n.status(bad, "task.completed")],
      ["feature id", () => n.statusOf(bad)],
      ["role", () => n.consumers.role(bad)],
    ];
    for (const [kind, call] of calls) {
      expect(call).toThrow(InvalidTokenError);
      expect(call).toThrow(`invalid ${kind} ${JSON.stringify(bad)}`);
    }
  });

  it("validates every dotted part of a status kind", () => {
    for (const kind of ["", "task.", ".task", "task..done", "task.*", "task.>", "task.com pleted"]) {
      expect(() => n.status("f", kind)).toThrow(InvalidTokenError);
    }
  });

  it("throws errors named InvalidTokenError", () => {
    try {
      n.task("a.b");
      expect.unreachable();
    } catch (e) {
      expect((e as Error).name).toBe("InvalidTokenError");
    }
  });
});

describe("parseResult / parseTask", () => {
  const n = names("pfx");
  const tokenArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

  it("round-trip every valid result subject (property)", () => {
    fc.assert(
      fc.property(tokenArb, tokenArb, (featureId, taskId) => {
        expect(n.parseResult(n.result(featureId, taskId))).toEqual({ featureId, taskId });
      }),
      { numRuns: 200 },
    );
  });

  it("round-trip every valid task subject (property)", () => {
    fc.assert(
      fc.property(tokenArb, (role) => {
        expect(n.parseTask(n.task(role))).toEqual({ role });
      }),
      { numRuns: 200 },
    );
  });

  it("return null for subjects that are not theirs", () => {
    for (const s of [
      "pfx.result.f",
      "pfx.result.f.t.extra",
      "pfx.result.f.*",
      "pfx.result.>",
      "pfx.result..t",
      "other.result.f.t",
      "pfx.task.f.t",
      "pfx.status.f.t",
      "",
    ]) {
      expect(n.parseResult(s)).toBeNull();
    }
    for (const s of ["pfx.task", "pfx.task.qa.x", "pfx.task.*", "pfx.task.>", "other.task.qa", "pfx.result.qa", "pfx.task."]) {
      expect(n.parseTask(s)).toBeNull();
    }
  });
});
