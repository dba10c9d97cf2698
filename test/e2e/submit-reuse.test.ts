// `baton submit` against a real stack when an id is reused (issue 10): the same request replays its own feature;
// a different request under the id exits 2 with the reason, with and without --watch, and never shows the old
// feature's ending as its own. Also: a relative workspace in a request file resolves against the file's folder.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATON_BIN, startStack, type Proc } from "../helpers/procs.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";

/** `baton <args>` without blocking the event loop (the stack's processes keep printing meanwhile). */
function run(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BATON_BIN, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", fail);
    child.once("close", (status) => (clearTimeout(killer), done({ status, stdout, stderr })));
  });
}

describe("baton submit with a reused id (a real nats-server, coordinator and worker)", () => {
  let server: NatsServer;
  let dir: string;
  let env: Record<string, string>;
  const procs: Proc[] = [];
  const requestFile = (name: string, body: object) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };

  beforeAll(async () => {
    server = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), "baton-reuse-"));
    writeFileSync(join(dir, "baton.yaml"), "roles:\n  backend:\n    executor: noop\n");
    env = { NATS_URL: server.url, BATON_PREFIX: uniquePrefix("reuse") };
    procs.push(...(await startStack(join(dir, "baton.yaml"), env, [["backend", "backend-1"]])));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(procs.map((proc) => proc.kill("SIGTERM")));
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("exits 0 for its own feature, and 2 with the reason for a different request under the same id", async () => {
    const cfg = join(dir, "baton.yaml");
    const first = requestFile("first.json", { id: "reused", title: "the first", tasks: [{ id: "a", role: "backend", title: "A" }] });
    const ran = await run(["submit", first, "--watch", "--config", cfg], env);
    expect(ran.status, ran.stderr).toBe(0);

    const again = await run(["submit", first, "--watch", "--config", cfg], env); // the same request: its own feature, replayed
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("completed");

    const second = requestFile("second.json", { id: "reused", title: "a different one", tasks: [{ id: "b", role: "backend", title: "B" }] });
    for (const flags of [["--watch"], []]) {
      const refused = await run(["submit", second, ...flags, "--config", cfg], env);
      expect(refused.status, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/feature "reused" already exists \(completed\) from a different request/);
      expect(refused.stdout).not.toMatch(/completed/); // the old feature's ending is never shown as this one's
      expect(refused.stdout).toBe(""); // nor its id, which a script would take for this request's
    }
  }, 90_000);

  it("resolves a relative workspace in a request file against the file's folder", async () => {
    mkdirSync(join(dir, "project", "ws"), { recursive: true });
    const file = requestFile(join("project", "req.json"), { id: "rel-ws", title: "relative", workspace: "./ws", tasks: [{ id: "a", role: "backend", title: "A" }] });
    const ran = await run(["submit", file, "--watch", "--config", join(dir, "baton.yaml")], env);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`in ${join(dir, "project", "ws")}`);
  }, 60_000);
});
