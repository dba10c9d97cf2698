// `baton up`: starts a local nats-server when none answers, supervises coordinator + workers + dashboard, stops cleanly.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/nats-server.ts";
import { baton } from "../helpers/procs.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "baton-up-"));
  writeFileSync(join(dir, "agent.mjs"), `console.log("hello from " + process.env.BATON_TASK_ID);\n`);
  writeFileSync(join(dir, "baton.yaml"), `workspace: ./ws\nroles:\n  qa:\n    exec: ["node", "./agent.mjs"]\n    replicas: 2\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const listening = (port: number) =>
  new Promise<boolean>((r) => {
    const s = netConnect({ port, host: "127.0.0.1" });
    s.once("connect", () => (s.destroy(), r(true)));
    s.once("error", () => r(false));
  });

describe("baton up", () => {
  it("starts nats-server when none answers, runs a feature through its workers, and stops everything on Ctrl-C", async () => {
    const port = await freePort();
    const env = { NATS_URL: `nats://127.0.0.1:${port}`, BATON_PREFIX: "upt" };
    const up = baton(["up", "--config", join(dir, "baton.yaml")], env, { cwd: dir });
    await up.waitFor(/^baton up: ready/m, 60_000);
    expect(up.output()).toMatch(/started a local nats-server/);
    expect(up.output()).toMatch(/worker-qa-2/);
    // and the integrator, which no role of the config names (the worker starts all the same)
    expect(up.output()).toMatch(/^started worker-integrator-1 /m);
    expect(up.output()).toMatch(/^baton up: ready — coordinator \+ 3 workers \(qa×2, integrator\)/m);
    expect(await listening(port)).toBe(true);
    // the dashboard: on the config's port (7420) or, when that is taken, another one; either way its URL is printed
    const dashboard = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/m.exec(up.output())?.[1];
    expect(dashboard, up.output()).toBeDefined();
    expect((await fetch(`${dashboard}api/workers`)).status).toBe(200);

    writeFileSync(join(dir, "f.yaml"), "id: up1\ntitle: t\ntasks:\n  - { id: a, role: qa, title: A }\n");
    const sub = baton(["submit", join(dir, "f.yaml"), "--watch"], env, { cwd: dir });
    expect(await sub.exited).toBe(0);
    expect(sub.output()).toMatch(/hello from a/);
    const workers = baton(["workers"], env);
    expect(await workers.exited).toBe(0);
    expect(workers.output().match(/^\s*qa\s+qa-/gm)).toHaveLength(2);

    up.child.kill("SIGINT");
    expect(await up.exited).toBe(0);
    expect(up.output()).toMatch(/stopped/);
    expect(await listening(port)).toBe(false);
  });

  it("says exactly how to install nats-server when it is missing", async () => {
    const port = await freePort();
    const up = baton(["up"], { NATS_URL: `nats://127.0.0.1:${port}`, PATH: "/nonexistent" }, { cwd: dir });
    expect(await up.exited).toBe(1);
    expect(up.output()).toMatch(/nats-server is not on PATH/);
    expect(up.output()).toMatch(/apt-get install -y nats-server/);
  });
});
