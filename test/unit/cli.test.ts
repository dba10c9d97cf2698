// The CLI's shape: it speaks to Baton only through shared/ (the client library), loads each command's
// module on demand, and renders the read model's rows and views as `baton ls` / `baton status` print them.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { emptyView } from "../../shared/client/index.ts";
import type { FeatureSummary, FeatureView } from "../../shared/protocol/index.ts";
import { renderList } from "../../services/cli/commands/ls.ts";
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

  it("main.ts loads each command on demand, so `baton --help` loads main, its flags and colours only", () => {
    const main = importsOf(join(CLI, "main.ts"));
    expect(main.static.sort()).toEqual(["./args.ts", "./render.ts", "node:util"]);
    expect(new Set(main.dynamic)).toEqual(new Set(["./commands/up.ts", "./commands/submit.ts", "./commands/watch.ts", "./commands/status.ts", "./commands/ls.ts", "./commands/workers.ts", "./commands/control.ts"]));
    // and what those two load is type-only or tiny: no NATS, no zod, no config
    for (const file of ["args.ts", "render.ts"]) {
      const runtime = readFileSync(join(CLI, file), "utf8").split("\n").filter((l) => /^import (?!type )/.test(l));
      expect(runtime.join("\n"), file).not.toMatch(/nats|zod|config|client|protocol/);
    }
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
    expect(none).toMatch(/^impl\s+backend\s+dispatched\s+waiting: no live backend worker$/m);
    expect(none).toMatch(/^docs\s+docs\s+waiting\s+after impl$/m);
    expect(none).toMatch(/^spec\s+api\s+completed\s+1\.5s\s+done$/m);
    expect(none).toMatch(/1\/3 tasks completed/);
    expect(renderStatus(view, new Map([["backend", 2]]))).toMatch(/^impl\s+backend\s+dispatched\s+queued for a backend worker$/m);
  });
});
