// `baton watch` and NATS: with no server it fails at once like every other command (same message, same exit
// code) instead of hanging; once connected it still rides out a NATS restart and follows the feature to its end.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";
import { baton, startStack, type Proc } from "../helpers/procs.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "baton-watch-"));
  writeFileSync(join(dir, "baton.yaml"), "roles:\n  qa:\n    executor: sleep\n    sleepMs: 100\n");
  writeFileSync(join(dir, "w1.yaml"), "id: w1\ntitle: t\ntasks:\n  - { id: a, role: qa, title: A }\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `baton <args>`; a command still running after 20 s is killed (its "exit code" is then the signal's name). */
async function runBounded(args: string[], env: Record<string, string>): Promise<{ code: number | string; output: string }> {
  const proc = baton(args, env, { cwd: dir });
  const timer = setTimeout(() => void proc.kill("SIGKILL"), 20_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
}

describe("baton watch and NATS", () => {
  it("with nothing listening, `watch` fails like `status`: the same message and exit code, without hanging", async () => {
    const env = { NATS_URL: `nats://127.0.0.1:${await freePort()}` };
    const [status, watch] = await Promise.all([runBounded(["status", "x"], env), runBounded(["watch", "x"], env)]);
    expect(status.code).toBe(1);
    expect(status.output).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*Is nats-server running/);
    expect(watch).toEqual(status);
  });

  describe("once connected", () => {
    let nats: NatsServer;
    let stack: Proc[] = [];
    beforeAll(async () => {
      nats = await startNatsServer();
    });
    afterAll(async () => {
      await Promise.all(stack.map((proc) => proc.kill()));
      await nats?.dispose();
    });

    it("rides out a NATS restart and follows the feature to its end", async () => {
      const env = { NATS_URL: nats.url, BATON_PREFIX: uniquePrefix("wr") };
      stack = await startStack(join(dir, "baton.yaml"), env, [["qa", "qa-1"]]);
      const watch = baton(["watch", "w1"], env, { cwd: dir });
      await watch.waitFor(/waiting for feature w1 to be accepted/);

      await nats.stop();
      await nats.start();
      const sub = baton(["submit", join(dir, "w1.yaml")], env, { cwd: dir });
      expect(await sub.exited, sub.output()).toBe(0);
      expect(await watch.exited, watch.output()).toBe(0);
      expect(watch.output()).toMatch(/completed/);
    });
  });
});
