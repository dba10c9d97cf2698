// `baton submit` against a real stack when an id is reused (issue 10): the same request replays its own feature;
// a different request under the id exits 2 with the reason, with and without --watch, and never shows the old
// feature's ending as its own. Also: a relative workspace in a request file resolves against the file's folder.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gitRepo } from "../helpers/git-repo.ts";
import { runBaton as run } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

describe("baton submit with a reused id (a real nats-server, coordinator and worker)", () => {
  // the integrator carries out the git workspace operations of the feature that names a workspace (under the root)
  const stack = useStack({ tag: "reuse", config: "workspaceRoots: [./project]\nroles:\n  backend:\n    executor: noop\n", workers: [["backend", "backend-1"], ["integrator", "integrator-1"]] });
  const requestFile = (name: string, body: object) => {
    const path = join(stack.dir, name);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };

  it("exits 0 for its own feature, and 2 with the reason for a different request under the same id", async () => {
    const cfg = stack.cfg;
    const first = requestFile("first.json", { id: "reused", title: "the first", tasks: [{ id: "a", role: "backend", title: "A" }] });
    const ran = await run(["submit", first, "--watch", "--config", cfg], stack.env);
    expect(ran.status, ran.stderr).toBe(0);

    const again = await run(["submit", first, "--watch", "--config", cfg], stack.env); // the same request: its own feature, replayed
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("completed");

    const second = requestFile("second.json", { id: "reused", title: "a different one", tasks: [{ id: "b", role: "backend", title: "B" }] });
    for (const flags of [["--watch"], []]) {
      const refused = await run(["submit", second, ...flags, "--config", cfg], stack.env);
      expect(refused.status, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/feature "reused" already exists \(completed\) from a different request/);
      expect(refused.stdout).not.toMatch(/completed/); // the old feature's ending is never shown as this one's
      expect(refused.stdout).toBe(""); // nor its id, which a script would take for this request's
    }
  }, 90_000);

  it("resolves a relative workspace in a request file against the file's folder", async () => {
    gitRepo(join(stack.dir, "project", "ws"), { "README.md": "ws\n" }); // a workspace here must be a git repository (submit checks)
    const file = requestFile(join("project", "req.json"), { id: "rel-ws", title: "relative", workspace: "./ws", tasks: [{ id: "a", role: "backend", title: "A" }] });
    const ran = await run(["submit", file, "--watch", "--config", join(stack.dir, "baton.yaml")], stack.env);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`in ${join(stack.dir, "project", "ws")}`);
  }, 60_000);
});
