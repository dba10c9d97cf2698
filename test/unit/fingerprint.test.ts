// The config fingerprint coordinators publish (shared/fingerprint.ts): stable across key and role order, different
// when anything that decides a request's fate changes, and able to say what differs.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../shared/config.ts";
import { canonicalJson, commonFingerprint, configDifferences, configFingerprint, decisionConfig } from "../../shared/fingerprint.ts";

const gate = (run: string[], extra: Record<string, unknown> = {}) => ({ run, timeoutSeconds: 600, expect: "pass", ...extra });
const base = () => ({
  knownRoles: ["backend", "qa", "docs"],
  gates: { unit: gate(["npm", "test"], { tests: "auto" }), lint: gate(["npm", "run", "lint"]) },
  coordinator: { taskTimeoutSeconds: 3600, maxRequestBytes: 262144, concurrency: 64, rescanSeconds: 30 },
});

describe("the config fingerprint", () => {
  it("is the same whatever the order of keys, roles and gates", () => {
    const reordered = {
      coordinator: { rescanSeconds: 30, concurrency: 64, maxRequestBytes: 262144, taskTimeoutSeconds: 3600 },
      gates: { lint: gate(["npm", "run", "lint"]), unit: { tests: "auto", expect: "pass", timeoutSeconds: 600, run: ["npm", "test"] } },
      knownRoles: ["docs", "qa", "backend", "qa"],
    };
    expect(configFingerprint(decisionConfig(reordered))).toBe(configFingerprint(decisionConfig(base())));
    expect(configFingerprint(decisionConfig(base()))).toMatch(/^[0-9a-f]{12}$/);
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it("ignores settings that only tune speed", () => {
    const tuned = { ...base(), coordinator: { ...base().coordinator, concurrency: 8, rescanSeconds: 5 } };
    expect(configFingerprint(decisionConfig(tuned))).toBe(configFingerprint(decisionConfig(base())));
  });

  it("differs when a role, a gate's definition, a gate's presence or an outcome setting changes", () => {
    const fingerprint = (config: Parameters<typeof decisionConfig>[0]) => configFingerprint(decisionConfig(config));
    const reference = fingerprint(base());
    const variants = [
      { ...base(), knownRoles: ["backend", "qa"] },
      { ...base(), knownRoles: ["backend", "qa", "docs", "devops"] },
      { ...base(), gates: { ...base().gates, unit: gate(["npm", "test"], { tests: "vitest" }) } },
      { ...base(), gates: { ...base().gates, unit: gate(["npm", "test"], { tests: "auto", timeoutSeconds: 60 }) } },
      { ...base(), gates: { unit: base().gates.unit } },
      { ...base(), coordinator: { ...base().coordinator, taskTimeoutSeconds: 60 } },
      { ...base(), coordinator: { ...base().coordinator, dispatchTimeoutSeconds: 300 } },
      { ...base(), knownRoles: undefined },
      { ...base(), knownRoles: [] },
    ];
    const prints = variants.map(fingerprint);
    for (const print of prints) expect(print).not.toBe(reference);
    expect(new Set(prints).size).toBe(prints.length);
  });

  it("is the same for a configuration loaded twice", () => {
    const env = { BATON_PREFIX: "fp" };
    expect(configFingerprint(decisionConfig(loadConfig({ env })))).toBe(configFingerprint(decisionConfig(loadConfig({ env }))));
  });
});

describe("configDifferences", () => {
  it("names the roles, gates and settings that differ, from each side", () => {
    const mine = decisionConfig(base());
    const theirs = decisionConfig({
      knownRoles: ["backend", "qa", "devops"],
      gates: { unit: gate(["npm", "test"]), e2e: gate(["npm", "run", "e2e"]) },
      coordinator: { taskTimeoutSeconds: 60, maxRequestBytes: 262144 },
    });
    expect(configDifferences(mine, theirs, ["here", "in c2"])).toEqual([
      "roles only here: docs",
      "roles only in c2: devops",
      "gates only here: lint",
      "gates only in c2: e2e",
      "gates defined differently: unit",
      "taskTimeoutSeconds 3600 here, 60 in c2",
    ]);
    expect(configDifferences(mine, decisionConfig(base()))).toEqual([]);
    const anyRole = decisionConfig({ ...base(), knownRoles: undefined });
    expect(configDifferences(mine, anyRole, ["here", "in c3"])).toEqual(["any role accepted in c3, only backend, docs, qa here"]);
    expect(configDifferences(anyRole, mine, ["here", "in c3"])).toEqual(["any role accepted here, only backend, docs, qa in c3"]);
  });
});

describe("commonFingerprint", () => {
  it("is the one most coordinators run, ties going to the longest-running", () => {
    const beat = (fingerprint: string, startedAt: string) => ({ fingerprint, startedAt });
    expect(commonFingerprint([])).toBeUndefined();
    expect(commonFingerprint([beat("b", "2026-01-01T00:00:00Z"), beat("a", "2026-01-02T00:00:00Z"), beat("a", "2026-01-03T00:00:00Z")])).toBe("a");
    expect(commonFingerprint([beat("b", "2026-01-02T00:00:00Z"), beat("a", "2026-01-01T00:00:00Z")])).toBe("a");
  });
});
