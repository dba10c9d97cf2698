// The `baton` bin as users start it: the compiled CLI bundle with its V8 code cache when dist/ is fresh, the
// sources through tsx when it is not (BATON_TSX=1 forces that path), and the same output either way.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { distState } from "../../bin/build.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = `${ROOT}bin/baton.mjs`;
const CACHE = `${ROOT}dist/cli.cjs.help.cache`;
const baton = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 30_000 });

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
