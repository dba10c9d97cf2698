// Test fixture: a temporary folder and a nats-server for a file's tests, created in beforeAll and removed in afterAll.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startNatsServer, type NatsServer } from "./nats-server.ts";

export interface Scratch {
  /** The temporary folder (`baton-<tag>-…`). */
  tmp: string;
  nats: NatsServer;
}

/** Registers the hooks; the returned object's fields are set once beforeAll has run. */
export function useScratch(tag: string): Scratch {
  const scratch = {} as Scratch;
  beforeAll(async () => {
    scratch.tmp = mkdtempSync(join(tmpdir(), `baton-${tag}-`));
    scratch.nats = await startNatsServer();
  });
  afterAll(async () => {
    await scratch.nats?.dispose();
    rmSync(scratch.tmp, { recursive: true, force: true });
  });
  return scratch;
}
