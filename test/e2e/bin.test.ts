// The `baton` bin as users start it: the compiled CLI bundle with its V8 code cache when dist/ is fresh, the
// sources through tsx when it is not (BATON_TSX=1 forces that path), and the same output either way; help for
// every command, the version, usage errors (exit 2, the nearest name), and JSON output scripts can parse.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { distState } from "../../bin/build.mjs";
import { FeatureSummary } from "../../shared/protocol/views.ts";
import { runBaton as run, runBatonSync as baton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CACHE = `${ROOT}dist/cli.cjs.help.cache`;

describe("the baton bin", () => {
  it("runs the compiled CLI bundle, writes its code cache on the first start and reuses it", () => {
    expect(distState(ROOT).fresh).toBe(true); // the test run's global setup built dist/
    rmSync(CACHE, { force: true });
    const first = baton(["--help"]);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("usage:");
    expect(existsSync(CACHE)).toBe(true);
    const written = statSync(CACHE).mtimeMs;
    const second = baton(["--help"]);
    expect(second.stdout).toBe(first.stdout);
    expect(statSync(CACHE).mtimeMs).toBe(written); // accepted, not rewritten
  });

  it("gives the same answers through tsx (BATON_TSX=1), as a stale dist/ would", () => {
    const compiled = baton(["status", "no-such-feature"], { NATS_URL: "nats://127.0.0.1:1" });
    const sources = baton(["status", "no-such-feature"], { NATS_URL: "nats://127.0.0.1:1", BATON_TSX: "1" });
    expect(compiled.status).toBe(1);
    expect(sources.status).toBe(1);
    expect(compiled.stderr).toContain("cannot connect to NATS at nats://127.0.0.1:1");
    expect(sources.stderr).toBe(compiled.stderr);
    expect(baton(["help"], { BATON_TSX: "1" }).stdout).toBe(baton(["help"]).stdout);
  });
});

const COMMANDS = ["up", "init", "submit", "watch", "status", "ls", "workers", "doctor", "cancel", "pause", "resume", "coordinator", "worker"];
const VERSION = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")).version;
const STACK_TRACE = /^\s+at /m;

describe("help, version and usage errors", () => {
  it("every command has --help (and -h, and `baton help COMMAND`), the same text either way, on stdout, exit 0", () => {
    const top = baton(["--help"]);
    for (const cmd of COMMANDS) {
      expect(top.stdout, `top-level help lists ${cmd}`).toMatch(new RegExp(`^  ${cmd}\\s+\\S`, "m"));
      const help = baton([cmd, "--help"]);
      expect(help.status, `${cmd} --help: ${help.stderr}`).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: baton ${cmd}\\b`));
      expect(help.stdout).toMatch(/^exit codes: /m);
      expect(help.stderr).toBe("");
      expect(baton(["help", cmd]).stdout, `baton help ${cmd}`).toBe(help.stdout);
    }
    expect(baton(["ls", "-h"]).stdout).toBe(baton(["help", "ls"]).stdout);
    expect(baton(["submit", "f.yaml", "--bogus", "--help"]).status).toBe(0); // --help wins over the rest of the line
  });

  it("--version, -V and `version` print the package's version, from the bundle and from the sources", () => {
    for (const args of [["--version"], ["-V"], ["version"]]) {
      const out = baton(args);
      expect(out.status).toBe(0);
      expect(out.stdout).toBe(`${VERSION}\n`);
    }
    expect(baton(["--version"], { BATON_TSX: "1" }).stdout).toBe(`${VERSION}\n`);
  });

  it("an unknown command or flag exits 2 with the nearest name and the usage, never a stack trace", () => {
    const cases: [string[], RegExp][] = [
      [["stauts", "x"], /unknown command "stauts"; did you mean status\?/],
      [["ls", "--jsn"], /baton ls: unknown flag --jsn; did you mean --json\?\nusage: baton ls /],
      [["ls", "--watch"], /baton ls: ls does not take --watch\nusage: baton ls /],
      [["watch"], /baton watch: missing the feature id\nusage: baton watch ID/],
      [["--verison"], /unknown flag --verison; did you mean --version\?/],
      [["help", "wokers"], /unknown command "wokers"; did you mean workers\?/],
      [["coordinator", "--confg", "x.yaml"], /baton coordinator: unknown flag --confg; did you mean --config\?\nusage: baton coordinator/],
      [["coordinator", "extra"], /baton coordinator: unexpected argument extra/],
      [["worker", "--rol", "backend"], /baton worker: unknown flag --rol; did you mean --role\?\nusage: baton worker/],
      [["worker"], /baton worker: --role is required/],
      [["worker", "--role", "backend", "--concurrency", "0"], /--concurrency must be an integer from 1 to 256/],
    ];
    for (const [args, message] of cases) {
      const out = baton(args);
      expect(out.status, args.join(" ")).toBe(2);
      expect(out.stderr, args.join(" ")).toMatch(message);
      expect(out.stderr).not.toMatch(STACK_TRACE);
      expect(out.stdout, args.join(" ")).toBe("");
    }
    expect(baton([]).status).toBe(2);
  });

  it("the coordinator's and the worker's own --help are `baton help coordinator|worker`", () => {
    for (const cmd of ["coordinator", "worker"]) expect(baton([cmd, "-h"]).stdout).toBe(baton(["help", cmd]).stdout);
  });
});

const ndjson = (text: string) => text.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

describe("machine-readable output (a real nats-server, coordinator and worker)", () => {
  const stack = useStack({
    tag: "bin",
    config: 'workspace: ./ws\nroles:\n  backend:\n    exec: ["node", "./agent.mjs"]\n    timeoutSeconds: 60\n',
    files: {
      "agent.mjs": [
        'import { appendFileSync, readFileSync } from "node:fs";',
        'const task = JSON.parse(readFileSync(0, "utf8"));',
        'if (task.taskId === "boom") { console.error("boom"); process.exit(1); }',
        'appendFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "did " + task.taskId }));',
      ].join("\n"),
    },
    workers: [["backend", "backend-1"]],
  });
  const request = (id: string, taskId: string) => JSON.stringify({ id, title: `json ${id}`, tasks: [{ id: taskId, role: "backend", title: "Work" }] });

  it("submit --json [--watch], watch --json and ls --json print only JSON on stdout, and exit 0/1/2 as documented", async () => {
    const first = await run(["submit", "-", "--json", "--watch"], stack.env, request("json-ok", "one"));
    expect(first.status, first.stderr).toBe(0);
    const [ack, ...events] = ndjson(first.stdout);
    expect(ack).toEqual({ featureId: "json-ok", duplicate: false });
    expect(events.map((event) => event.kind)).toContain("feature.accepted");
    expect(events.at(-1)).toMatchObject({ kind: "feature.completed", featureId: "json-ok" });

    const again = await run(["submit", "-", "--json"], stack.env, request("json-ok", "one"));
    expect(again.status, again.stderr).toBe(0);
    expect(ndjson(again.stdout)).toEqual([{ featureId: "json-ok", duplicate: true }]);

    const watch = await run(["watch", "json-ok", "--json"], stack.env);
    expect(watch.status, watch.stderr).toBe(0);
    expect(ndjson(watch.stdout)).toEqual(events); // the same events, replayed

    const failed = await run(["submit", "-", "--json", "--watch"], stack.env, request("json-boom", "boom"));
    expect(failed.status, failed.stderr).toBe(1);
    expect(ndjson(failed.stdout).at(-1)).toMatchObject({ kind: "feature.failed", featureId: "json-boom" });

    const list = await run(["ls", "--json"], stack.env);
    expect(list.status, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(rows.find((row) => row.featureId === "json-ok")).toMatchObject({ state: "completed", tasks: 1, completed: 1, title: "json json-ok" });
    expect(rows.find((row) => row.featureId === "json-boom")).toMatchObject({ state: "failed" });
    for (const row of rows) expect(Object.keys(FeatureSummary.shape)).toEqual(expect.arrayContaining(Object.keys(row))); // the read model's field names

    for (const args of [["status", "json-ok", "--json"], ["workers", "--json"]]) {
      const out = await run(args, stack.env);
      expect(() => JSON.parse(out.stdout), `${args.join(" ")}: ${out.stderr}`).not.toThrow();
    }

    const invalid = await run(["submit", "-", "--json"], stack.env, JSON.stringify({ title: "no tasks" }));
    expect(invalid.status).toBe(2);
    expect(invalid.stdout).toBe("");
    const down = await run(["ls", "--json"], { ...stack.env, NATS_URL: "nats://127.0.0.1:1" });
    expect(down.status).toBe(1);
    expect(down.stdout).toBe("");
    expect(down.stderr).toMatch(/cannot connect to NATS at nats:\/\/127.0.0.1:1/);
  });
});
