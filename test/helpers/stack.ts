// Test fixture: a real nats-server, a temporary folder with a baton.yaml, `baton coordinator` and workers, and a client connection.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import { names, type Names } from "../../shared/subjects.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "./nats-server.ts";
import { startStack, type Proc } from "./procs.ts";

export interface StackOptions {
  /** Names the temporary folder (`baton-<tag>-…`) and the Baton prefix (`uniquePrefix(tag)`). */
  tag: string;
  /** The contents of `baton.yaml`, given the temporary folder. */
  config: string | ((dir: string) => string);
  /** Further files to write into the folder before the processes start (path relative to it → contents). */
  files?: Record<string, string>;
  /** Empty folders to create in it. */
  dirs?: string[];
  /** `[role, workerId]` of each `baton worker` to start. */
  workers: readonly (readonly [role: string, id: string])[];
  /** Environment for the processes besides NATS_URL and BATON_PREFIX, given the config file's path. */
  env?: (cfg: string) => Record<string, string>;
  /** The signal the processes get in afterAll (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

export interface Stack {
  server: NatsServer;
  /** The temporary folder (removed in afterAll). */
  dir: string;
  /** `<dir>/baton.yaml`. */
  cfg: string;
  prefix: string;
  n: Names;
  /** NATS_URL, BATON_PREFIX and the `env` option: what the processes run with. */
  env: Record<string, string>;
  nc: NatsConnection;
  /** The coordinator first, then the workers in the order given. */
  procs: Proc[];
}

/**
 * Registers beforeAll/afterAll hooks (for the file, or for the describe block it is called in) that bring the stack
 * up and tear it down: connection closed, processes stopped, nats-server disposed, folder removed. The returned
 * object's fields are set once beforeAll has run.
 */
export function useStack(o: StackOptions): Stack {
  const stack = { procs: [] as Proc[] } as Stack;
  beforeAll(async () => {
    stack.server = await startNatsServer();
    stack.dir = mkdtempSync(join(tmpdir(), `baton-${o.tag}-`));
    for (const d of o.dirs ?? []) mkdirSync(join(stack.dir, d), { recursive: true });
    for (const [path, content] of Object.entries(o.files ?? {})) writeFileSync(join(stack.dir, path), content);
    stack.cfg = join(stack.dir, "baton.yaml");
    writeFileSync(stack.cfg, typeof o.config === "function" ? o.config(stack.dir) : o.config);
    stack.prefix = uniquePrefix(o.tag);
    stack.n = names(stack.prefix);
    // git features' worktrees go under the stack's folder (XDG_CACHE_HOME), so a test leaves none behind
    stack.env = { NATS_URL: stack.server.url, BATON_PREFIX: stack.prefix, XDG_CACHE_HOME: join(stack.dir, "cache"), ...o.env?.(stack.cfg) };
    stack.procs.push(...(await startStack(stack.cfg, stack.env, o.workers)));
    stack.nc = await connect({ servers: stack.server.url });
  }, 90_000);
  afterAll(async () => {
    await stack.nc?.close();
    await Promise.all(stack.procs.map((p) => p.kill(o.stopSignal ?? "SIGTERM")));
    await stack.server?.dispose();
    if (stack.dir) rmSync(stack.dir, { recursive: true, force: true });
  });
  return stack;
}
