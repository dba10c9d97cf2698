// Configuration: a YAML or JSON file plus an explicit environment, parsed once into a frozen object.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, readConfigFile } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "baton-config-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes `text` to a fresh file `name` in its own sub-folder and returns the file's path. */
function file(name: string, text: string): string {
  const dir = join(root, `c${++n}`, "etc");
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).name).toBe("ConfigError");
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

const YAML = `
nats:
  url: nats://files:4222
prefix: fromfile
workspace: ../work
log:
  level: debug
roles:
  backend:
    exec: ["./bin/run.sh", "--root", "\${configDir}/data", "../shared/tool", "node", "/abs/x", "\${configDir}"]
    timeoutSeconds: 60
    env: { MODE: fast }
  wizard:
    exec: [echo]
worker:
  maxDeliver: 3
`;

describe("loadConfig without a file", () => {
  it("has defaults for everything", () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg).toMatchObject({
      natsUrl: "nats://127.0.0.1:4222",
      prefix: "baton",
      configDir: process.cwd(),
      configPath: undefined,
      knownRoles: undefined,
      workspace: undefined,
      roles: {},
      logLevel: "info",
    });
    expect(cfg.worker).toEqual({
      ackWaitSeconds: 30, maxDeliver: 5, drainGraceSeconds: 30, heartbeatSeconds: 5, startedDelayMs: 50, logLinesPerSecond: 50, logLineMaxChars: 2000, worktrees: { link: ["node_modules"] },
    });
    expect(cfg.coordinator).toEqual({
      maxRequestBytes: 256 * 1024, concurrency: 64, eventsMaxAgeHours: 24 * 7, ackWaitSeconds: 10, taskTimeoutSeconds: 4 * 3600, rescanSeconds: 30, unservedRepeatSeconds: 60, lockLeaseSeconds: 30,
    });
    expect(cfg.faults).toEqual({});
  });

  it("takes overrides from the given env only", () => {
    const cfg = loadConfig({ env: { NATS_URL: "nats://env:1", BATON_PREFIX: "envp", BATON_LOG_LEVEL: "warn" } });
    expect(cfg).toMatchObject({ natsUrl: "nats://env:1", prefix: "envp", logLevel: "warn" });
  });

  it("returns a frozen object", () => {
    const cfg = loadConfig({ env: {} });
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(() => {
      (cfg as { prefix: string }).prefix = "x";
    }).toThrow(TypeError);
  });
});

describe("loadConfig with a YAML file", () => {
  it("reads values, fills defaults, and resolves paths against the config file's folder", () => {
    const path = file("baton.yaml", YAML);
    const dir = join(path, "..");
    const cfg = loadConfig({ file: path, env: {} });
    expect(cfg.configPath).toBe(path);
    expect(cfg.configDir).toBe(dir);
    expect(cfg.natsUrl).toBe("nats://files:4222");
    expect(cfg.prefix).toBe("fromfile");
    expect(cfg.logLevel).toBe("debug");
    expect(cfg.workspace).toBe(join(dir, "..", "work"));
    expect(cfg.roles.backend).toEqual({
      exec: [join(dir, "bin/run.sh"), "--root", `${dir}/data`, join(dir, "../shared/tool"), "node", "/abs/x", dir],
      timeoutSeconds: 60,
      env: { MODE: "fast" },
      replicas: 1,
      concurrency: 1,
      executor: "exec",
      sleepMs: 100,
      args: [],
      stallSeconds: 300,
    });
    expect(cfg.roles.wizard).toEqual({ executor: "exec", exec: ["echo"], sleepMs: 100, timeoutSeconds: 1800, env: {}, replicas: 1, concurrency: 1, args: [], stallSeconds: 300 });
    expect(cfg.worker.maxDeliver).toBe(3);
    expect(cfg.worker.ackWaitSeconds).toBe(30);
  });

  it("knows the file's roles only: built-in role names do not count without a config naming them", () => {
    const cfg = loadConfig({ file: file("baton.yaml", YAML), env: {} });
    expect(cfg.knownRoles).toEqual(["backend", "wizard"]);
    const both = loadConfig({ file: file("both.yaml", "knownRoles: [backend, docs]\nroles:\n  backend: { exec: [x] }\n"), env: {} });
    expect(both.knownRoles).toEqual(["backend", "docs"]);
  });

  it("replaces the defaults with an explicit knownRoles list, still adding the file's roles", () => {
    const cfg = loadConfig({ file: file("baton.yml", "knownRoles: [qa, docs]\nroles:\n  ops: { exec: [x] }\n"), env: {} });
    expect(cfg.knownRoles).toEqual(["qa", "docs", "ops"]);
  });

  it("lets the env win over the file", () => {
    const cfg = loadConfig({ file: file("baton.yaml", YAML), env: { NATS_URL: "nats://env:2", BATON_PREFIX: "envp", BATON_LOG_LEVEL: "error" } });
    expect(cfg).toMatchObject({ natsUrl: "nats://env:2", prefix: "envp", logLevel: "error" });
  });

  it("falls back to the file when env values are empty", () => {
    const cfg = loadConfig({ file: file("baton.yaml", YAML), env: { NATS_URL: "", BATON_PREFIX: "" } });
    expect(cfg).toMatchObject({ natsUrl: "nats://files:4222", prefix: "fromfile" });
  });

  it("finds the file through BATON_CONFIG in the given env", () => {
    const path = file("baton.yaml", YAML);
    expect(loadConfig({ env: { BATON_CONFIG: path } }).configPath).toBe(path);
  });

  it("treats an empty file as all defaults", () => {
    const cfg = loadConfig({ file: file("empty.yaml", ""), env: {} });
    expect(cfg).toMatchObject({ prefix: "baton", roles: {} });
    expect(cfg.knownRoles).toBeUndefined(); // no role named: any well-formed role is accepted
  });

  it("keeps an absolute workspace as it is", () => {
    expect(loadConfig({ file: file("b.yaml", "workspace: /srv/ws\n"), env: {} }).workspace).toBe("/srv/ws");
  });
});

describe("loadConfig with a JSON file", () => {
  it("reads the same structure", () => {
    const path = file("baton.json", JSON.stringify({ prefix: "json", roles: { qa: { exec: ["./qa.sh"], replicas: 2 } }, coordinator: { concurrency: 8 } }));
    const cfg = loadConfig({ file: path, env: {} });
    expect(cfg.prefix).toBe("json");
    expect(cfg.roles.qa).toMatchObject({ exec: [join(path, "..", "qa.sh")], replicas: 2 });
    expect(cfg.coordinator).toEqual({
      maxRequestBytes: 256 * 1024, concurrency: 8, eventsMaxAgeHours: 24 * 7, ackWaitSeconds: 10, taskTimeoutSeconds: 4 * 3600, rescanSeconds: 30, unservedRepeatSeconds: 60, lockLeaseSeconds: 30,
    });
  });
});

describe("an invalid config file", () => {
  it("names an unknown key and where it is", () => {
    const path = file("bad.yaml", "prefix: x\nbogus: 1\nworker:\n  ackWait: 3\n");
    const e = configError(() => loadConfig({ file: path, env: {} }));
    expect(e.message).toContain(`config file ${path} is invalid:`);
    expect(e.message).toMatch(/\(root\): Unrecognized key: "bogus"/);
    expect(e.message).toMatch(/worker: Unrecognized key: "ackWait"/);
  });

  it("names a negative timeout by its full path", () => {
    const path = file("bad.yaml", "roles:\n  backend:\n    exec: [x]\n    timeoutSeconds: -5\n");
    const e = configError(() => readConfigFile(path));
    expect(e.message).toMatch(/\n {2}roles\.backend\.timeoutSeconds: .*>0/);
  });

  it("lists every problem, one per line", () => {
    const path = file("bad.json", JSON.stringify({ roles: { "bad role": { exec: ["x"] }, qa: { exec: [] } }, worker: { maxDeliver: 0 }, log: { level: "loud" } }));
    const e = configError(() => loadConfig({ file: path, env: {} }));
    const lines = e.message.split("\n").slice(1);
    expect(lines.map((l) => l.trim().split(":")[0]).sort()).toEqual(["log.level", "roles.bad role", "roles.qa.exec", "worker.maxDeliver"].sort());
  });

  it("is reported as unreadable when missing", () => {
    const path = join(root, "nope", "baton.yaml");
    const e = configError(() => loadConfig({ file: path, env: {} }));
    expect(e.message).toMatch(new RegExp(`^cannot read config file ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*ENOENT`));
    expect(e.cause).toBeInstanceOf(Error);
  });

  it("is reported as unparsable when it is not YAML", () => {
    const path = file("broken.yaml", "roles: [unclosed\n  - x: {");
    const e = configError(() => readConfigFile(path));
    expect(e.message).toContain(`config file ${path} is not valid YAML/JSON`);
  });

  it("rejects a file that is a list, not a mapping", () => {
    const e = configError(() => readConfigFile(file("list.yaml", "- a\n- b\n")));
    expect(e.message).toMatch(/\(root\): .*expected object/);
  });
});

describe("BATON_FAULTS", () => {
  it("parses crash points and rejects unknown ones with a clear error", () => {
    expect(loadConfig({ env: { BATON_FAULTS: "after-write=0.1,before-ack=0.05" } }).faults).toEqual({ "after-write": 0.1, "before-ack": 0.05 });
    expect(() => loadConfig({ env: { BATON_FAULTS: "somewhere=0.1" } })).toThrow(/BATON_FAULTS="somewhere=0.1" is invalid/);
    expect(() => loadConfig({ env: { BATON_FAULTS: "after-write=2" } })).toThrow(/invalid/);
  });
});

describe("gates in the config", () => {
  it("merges presets with the file's own gates (the file's win), applies defaults and resolves ./ paths", () => {
    const path = file("gates.yaml", [
      "gatePresets: [node]",
      "gates:",
      "  test: { run: [\"./scripts/test.sh\", \"--ci\"], tests: node-test }",
      "  cov: { run: [npm, run, cov], coverage: { file: coverage/lcov.info, min: 85 } }",
      "  red: { run: [npm, test], expect: fail, timeoutSeconds: 30 }",
    ].join("\n"));
    const cfg = loadConfig({ file: path, env: {} });
    expect(Object.keys(cfg.gates).sort()).toEqual(["cov", "coverage", "format", "lint", "red", "test", "types"]);
    expect(cfg.gates.test).toEqual({ run: [join(root, `c${n}`, "etc", "scripts", "test.sh"), "--ci"], tests: "node-test", timeoutSeconds: 600, expect: "pass" });
    expect(cfg.gates.cov!.coverage).toEqual({ file: "coverage/lcov.info", metric: "lines", min: 85 });
    expect(cfg.gates.red).toMatchObject({ expect: "fail", timeoutSeconds: 30 });
    expect(cfg.gates.types!.run.length).toBeGreaterThan(0); // from the node preset
  });

  it("has no gates unless configured", () => {
    expect(loadConfig({ env: {} }).gates).toEqual({});
  });

  it("rejects a gate without an argv, a shell string, an unknown parser, a coverage minimum over 100 and an unknown preset", () => {
    const path = file("bad-gates.yaml", [
      "gatePresets: [ruby]",
      "gates:",
      "  a: { run: [] }",
      "  b: { run: \"npm test\" }",
      "  c: { run: [x], tests: rspec }",
      "  d: { run: [x], coverage: { file: c.json, min: 120 } }",
      "  \"bad name\": { run: [x] }",
    ].join("\n"));
    const e = configError(() => readConfigFile(path));
    for (const where of ["gatePresets[0]", "gates.a.run", "gates.b.run", "gates.c.tests", "gates.d.coverage.min", "gates.bad name"]) expect(e.message).toContain(where);
  });
});

describe("finding the config file", () => {
  it("reads baton.config.yaml in the working folder when neither --config nor BATON_CONFIG names one", () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-find-"));
    try {
      expect(loadConfig({ env: {}, cwd: dir }).configPath).toBeUndefined();
      writeFileSync(join(dir, "baton.config.yaml"), "roles:\n  docs: { executor: noop }\n");
      const found = loadConfig({ env: {}, cwd: dir });
      expect(found.configPath).toBe(join(dir, "baton.config.yaml"));
      expect(found.knownRoles).toEqual(["docs"]);
      // an explicit file, and BATON_CONFIG, win over the folder's
      writeFileSync(join(dir, "other.yaml"), "roles:\n  qa: { executor: noop }\n");
      expect(loadConfig({ env: { BATON_CONFIG: join(dir, "other.yaml") }, cwd: dir }).knownRoles).toEqual(["qa"]);
      expect(loadConfig({ file: join(dir, "other.yaml"), env: {}, cwd: dir }).knownRoles).toEqual(["qa"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
