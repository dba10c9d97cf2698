// The CLI's shape: it speaks to Baton only through shared/ (the client library), loads each command's
// module on demand, and renders the read model's rows and views as `baton ls` / `baton status` print them.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { emptyView } from "../../shared/client/index.ts";
import type { FeatureSummary, FeatureView } from "../../shared/protocol/index.ts";
import { parseArgs } from "node:util";
import { argsErrorMessage } from "../../shared/cli-args.ts";
import { asksForHelp, COMMAND_SPECS, OPTIONS, parseCommand, type CliCommand } from "../../services/cli/args.ts";
import { renderList } from "../../services/cli/commands/ls.ts";
import { commandHelp, HELP, topHelp, type HelpTopic } from "../../shared/usage.ts";
import { renderStatus } from "../../services/cli/render.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "services/cli");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []);
}

/** Relative module specifiers of a file: static imports/exports and dynamic import() calls, apart. */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const text = readFileSync(file, "utf8");
  const found = (re: RegExp) => [...text.matchAll(re)].map((m) => m[1]!);
  return {
    static: found(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms),
    dynamic: found(/import\(\s*"([^"]+)"\s*\)/g),
  };
}

describe("the CLI's dependencies", () => {
  it("imports nothing from another service: only its own files and shared/", () => {
    const files = sources(CLI);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const { static: stat, dynamic } = importsOf(file);
      for (const spec of [...stat, ...dynamic].filter((s) => s.startsWith("."))) {
        const target = relative(ROOT, resolve(dirname(file), spec));
        expect(target.startsWith("services/cli/") || target.startsWith("shared/"), `${relative(ROOT, file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it("main.ts loads each command on demand, so `baton --help` loads main, its flags, help texts and colours only", () => {
    const main = importsOf(join(CLI, "main.ts"));
    expect(new Set(main.dynamic)).toEqual(new Set(Object.keys(COMMAND_SPECS).map((cmd) => `./commands/${["cancel", "pause", "resume", "approve", "reject"].includes(cmd) ? "control" : cmd}.ts`)));
    // what main.ts loads at start-up (its static imports, transitively, types aside): a few small files, no npm package
    const loaded = new Set<string>();
    const packages: string[] = [];
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const spec of runtimeImportsOf(file)) {
        if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
        else if (!spec.startsWith("node:")) packages.push(`${relative(ROOT, file)}: ${spec}`);
      }
    };
    visit(join(CLI, "main.ts"));
    expect(packages).toEqual([]);
    expect(loaded.size).toBeLessThanOrEqual(10);
  });
});

/** The static imports that stay at run time (not `import type`). */
function runtimeImportsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

describe("the command table", () => {
  const mainText = readFileSync(join(CLI, "main.ts"), "utf8");
  const table = [...mainText.matchAll(/^\s+(\w+): \(\) => import\("\.\/commands\/\w+\.ts"\)/gm)].map((m) => m[1]!);

  it("every command has its flags, its help and its module; coordinator, worker and ui (routed by the bin) their help", () => {
    expect(table.sort()).toEqual(Object.keys(COMMAND_SPECS).sort());
    expect(Object.keys(HELP).sort()).toEqual([...Object.keys(COMMAND_SPECS), "coordinator", "worker", "ui"].sort());
    for (const topic of Object.keys(HELP) as HelpTopic[]) {
      const text = commandHelp(topic);
      expect(text, topic).toMatch(new RegExp(`^usage: baton ${topic}\\b`));
      expect(text, topic).toMatch(/^exit codes: [^]*\busage error/m);
      expect(text, topic).toContain("-h, --help");
      expect(topHelp()).toMatch(new RegExp(`^  ${topic}\\s+\\S`, "m"));
    }
  });

  it("each command's help names exactly the flags it accepts", () => {
    for (const [cmd, spec] of Object.entries(COMMAND_SPECS)) {
      const text = commandHelp(cmd as HelpTopic);
      for (const flag of Object.keys(OPTIONS)) {
        const accepted = (spec.flags as readonly string[]).includes(flag);
        // a whole flag: `--to` is not in `--tokens`
        expect(new RegExp(`--${flag}(?![\\w-])`).test(text), `${cmd} --${flag}`).toBe(accepted);
      }
    }
  });
});

describe("parsing a command line", () => {
  const usageError = (cmd: CliCommand, argv: string[]) => {
    try {
      parseCommand(cmd, argv);
    } catch (err) {
      expect((err as Error).name).toBe("UsageError");
      return (err as Error).message;
    }
    throw new Error(`${cmd} ${argv.join(" ")} was accepted`);
  };

  it("takes a command's own flags, with their defaults", () => {
    expect(parseCommand("submit", ["f.yaml", "-w", "--json", "--timeout", "5"])).toEqual({
      cmd: "submit", positionals: ["f.yaml"], values: { watch: true, json: true, timeout: "5", all: false, force: false },
    });
    expect(parseCommand("ls", []).values).toEqual({ watch: false, json: false, timeout: "30", all: false, force: false });
    expect(parseCommand("init", ["app", "--roles", "api,backend", "--force"]).values).toMatchObject({ roles: "api,backend", force: true });
  });

  it("refuses another command's flag, and names the nearest flag for a misspelt one", () => {
    expect(usageError("ls", ["--watch"])).toBe("ls does not take --watch");
    expect(usageError("status", ["x", "--reason", "why"])).toBe("status does not take --reason");
    expect(usageError("ls", ["--jsn"])).toBe("unknown flag --jsn; did you mean --json?");
    expect(usageError("submit", ["f", "--wacth"])).toBe("unknown flag --wacth; did you mean --watch?");
    expect(usageError("ls", ["--conf", "x"])).toBe("unknown flag --conf; did you mean --config?");
    expect(usageError("ls", ["--zzzzzz"])).toBe("unknown flag --zzzzzz");
  });

  it("refuses a missing value, a value for a switch and extra arguments", () => {
    expect(usageError("cancel", ["x", "--reason"])).toBe("--reason needs a value");
    expect(usageError("status", ["x", "--json=yes"])).toBe("--json does not take an argument");
    expect(usageError("watch", ["a", "b"])).toBe('unexpected argument "b" (watch takes one)');
    expect(usageError("ls", ["all"])).toBe('unexpected argument "all" (ls takes none)');
  });

  it("finds --help anywhere before a `--`", () => {
    expect(asksForHelp(["x", "--bogus", "-h"])).toBe(true);
    expect(asksForHelp(["--help"])).toBe(true);
    expect(asksForHelp(["--", "--help"])).toBe(false);
    expect(asksForHelp(["x"])).toBe(false);
  });

  it("words parseArgs errors for people (the coordinator and worker use the same)", () => {
    const messageOf = (argv: string[]) => {
      try {
        parseArgs({ args: argv, options: { role: { type: "string", short: "r" }, concurrency: { type: "string", short: "c" } }, strict: true });
      } catch (err) {
        return argsErrorMessage(err as Error, ["role", "concurrency"]);
      }
      return "accepted";
    };
    expect(messageOf(["--rol", "x"])).toBe("unknown flag --rol; did you mean --role?");
    expect(messageOf(["--concurency=2"])).toBe("unknown flag --concurency; did you mean --concurrency?");
    expect(messageOf(["-r"])).toBe("-r, --role needs a value");
    expect(messageOf(["extra"])).toBe("unexpected argument extra");
  });
});

const row = (featureId: string, state: FeatureSummary["state"], completed: number, tasks: number): FeatureSummary =>
  ({ featureId, state, title: `title of ${featureId}`, submittedAt: "2026-01-01T12:00:00.000Z", tasks, completed });

describe("rendering", () => {
  it("`ls` prints one row per feature with its progress, and how many older ones --all would add", () => {
    const out = renderList([row("cli-e2e", "completed", 2, 2), row("diamond-e2e", "executing", 3, 6)], 5);
    expect(out).toMatch(/^FEATURE\s+STATE\s+TASKS\s+SUBMITTED\s+TITLE$/m);
    expect(out).toMatch(/^cli-e2e\s+completed\s+2\/2\s+2026-01-01T12:00:00.000Z\s+title of cli-e2e$/m);
    expect(out).toMatch(/^diamond-e2e\s+executing\s+3\/6/m);
    expect(out).toMatch(/… 3 older features \(--all shows them\)/);
    expect(renderList([row("a", "unreadable", 0, 0)], 1)).not.toMatch(/older/);
  });

  it("`status` says whether a queued task has a live worker of its role", () => {
    const view: FeatureView = {
      ...emptyView("f1"), state: "executing", title: "Todos", acceptedAt: "2026-01-01T12:00:00.000Z", seq: 3,
      tasks: [
        { id: "spec", role: "api", title: "Spec", dependsOn: [], state: "completed", attempt: 1, durationMs: 1500, summary: "done" },
        { id: "impl", role: "backend", title: "Build", dependsOn: ["spec"], state: "dispatched", attempt: 1 },
        { id: "docs", role: "docs", title: "Docs", dependsOn: ["impl"], state: "waiting", attempt: 0 },
      ],
    };
    const none = renderStatus(view, new Map());
    expect(none).toMatch(/^f1\s+executing\s+Todos$/m);
    expect(none).toMatch(/^impl\s+backend\s+dispatched\s+no live backend worker \(start one: baton worker --role backend\)$/m);
    expect(none).toMatch(/^docs\s+docs\s+waiting\s+waits for dependency impl$/m);
    expect(none).toMatch(/^spec\s+api\s+completed\s+1\.5s\s+done$/m);
    expect(none).toMatch(/1\/3 tasks completed/);
    expect(renderStatus(view, new Map([["backend", 2]]))).toMatch(/^impl\s+backend\s+dispatched\s+waiting for a backend worker$/m);
  });
});
