// Baton installed the two ways the README gives — `npm install -g` of a packed tarball, and `npm ci && npm install -g .`
// in a copy of the checkout — each into a temporary --prefix, then run from a folder outside the repository:
// `--version`, `init`, and `up` (which must find its own bin wherever it is installed).
// npm resolves the dependencies from its cache first (--offline); only when the cache lacks them does it ask the
// registry, and with no registry reachable the test is skipped, saying why.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { uniquePrefix } from "../helpers/nats-server.ts";
import { useScratch } from "../helpers/scratch.ts";
import { distState } from "../../bin/build.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const NETWORK_ERROR = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|ENOTCACHED/;

/** The environment without the npm_* variables of the npm that started vitest (they would steer the npm run here). */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

function npm(args: string[], cwd: string): { status: number | null; stdout: string; output: string } {
  const run = spawnSync("npm", [...args, "--no-audit", "--no-fund"], { cwd, env: cleanEnv, encoding: "utf8", timeout: 240_000 });
  return { status: run.status, stdout: run.stdout, output: `${run.stdout}${run.stderr}` };
}

/** `npm <args>` from the cache only, else with the registry; undefined (with the reason) when neither can. */
function npmInstall(args: string[], cwd: string): { output: string } | { skip: string } {
  const offline = npm([...args, "--offline"], cwd);
  if (offline.status === 0) return offline;
  const online = npm([...args, "--prefer-offline"], cwd);
  if (online.status === 0) return online;
  if (NETWORK_ERROR.test(online.output)) return { skip: `npm ${args[0]} needs the registry for dependencies that are not in the npm cache, and it is unreachable` };
  throw new Error(`npm ${args.join(" ")} failed:\n${online.output}`);
}

const scratch = useScratch("install");

/** `<prefix>/bin/baton` run from a folder outside the repository: --version, init, then up until ready and SIGTERM. */
async function runsFromAnywhere(prefix: string, name: string): Promise<void> {
  const bin = join(prefix, "bin", "baton");
  const elsewhere = join(scratch.tmp, `${name}-elsewhere`);
  mkdirSync(elsewhere);
  const env = { ...cleanEnv, PATH: `${join(prefix, "bin")}:${cleanEnv.PATH}`, NATS_URL: scratch.nats.url, BATON_PREFIX: uniquePrefix(name), NO_COLOR: "1" };
  const version = spawnSync(bin, ["--version"], { cwd: elsewhere, env, encoding: "utf8" });
  expect(version.status, version.stderr).toBe(0);
  expect(version.stdout).toContain(VERSION);
  const init = spawnSync(bin, ["init", "proj"], { cwd: elsewhere, env, encoding: "utf8" });
  expect(init.status, `${init.stdout}${init.stderr}`).toBe(0);
  expect(existsSync(join(elsewhere, "proj", ".baton", "agents", "reviewer.mjs"))).toBe(true);

  const up = spawn(bin, ["up", "--config", "baton.config.yaml"], { cwd: join(elsewhere, "proj"), env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => up.once("exit", (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/^baton up: ready/m.test(output)) resolve();
    };
    up.stdout.on("data", onData);
    up.stderr.on("data", onData);
    void exited.then(() => reject(new Error(`baton up exited before it was ready:\n${output}`)));
  });
  await ready;
  up.kill("SIGTERM");
  expect(await exited, output).toBe(0);
}

describe("installing Baton", () => {
  it("from a packed tarball: ships dist/, installs with -g, and runs from any folder", async (ctx) => {
    const pack = npm(["pack", "--ignore-scripts", "--json", "--pack-destination", scratch.tmp], ROOT);
    expect(pack.status, pack.output).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((file) => file.path);
    // `prepare` does not run when a tarball is installed: the build must be in it, with the bin and the agent templates.
    expect(files).toEqual(expect.arrayContaining(["bin/baton.mjs", "dist/cli.cjs", "dist/services/worker/main.js", "services/cli/init/templates/reviewer.mjs"]));
    expect(files.filter((path) => path.startsWith("test/") || path.startsWith("bench/"))).toEqual([]);

    const prefix = join(scratch.tmp, "prefix-tarball");
    const installed = npmInstall(["install", "-g", "--prefix", prefix, join(scratch.tmp, packed!.filename)], scratch.tmp);
    if ("skip" in installed) return ctx.skip(installed.skip);
    // npm gives the installed files new mtimes: the content hashes in the build stamp keep dist/ usable (no tsx start).
    expect(distState(join(prefix, "lib", "node_modules", "baton"))).toEqual({ fresh: true });
    await runsFromAnywhere(prefix, "tarball");
  }, 300_000);

  it("from a checkout: `npm ci` without engine warnings on this Node, then `npm install -g .`", async (ctx) => {
    const clone = join(scratch.tmp, "clone");
    const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
    for (const path of listed.stdout.split("\0").filter(Boolean)) {
      if (!existsSync(join(ROOT, path))) continue;
      mkdirSync(dirname(join(clone, path)), { recursive: true });
      cpSync(join(ROOT, path), join(clone, path));
    }
    const ci = npmInstall(["ci"], clone);
    if ("skip" in ci) return ctx.skip(ci.skip);
    // package.json says Node >= 20: no dependency may ask for more on the Node this runs on.
    expect(ci.output).not.toMatch(/EBADENGINE/);
    expect(existsSync(join(clone, "dist", "cli.cjs"))).toBe(true); // `prepare` built it

    const prefix = join(scratch.tmp, "prefix-clone");
    const linked = npm(["install", "-g", "--prefix", prefix, "."], clone);
    expect(linked.status, linked.output).toBe(0);
    await runsFromAnywhere(prefix, "clone");
  }, 300_000);
});
