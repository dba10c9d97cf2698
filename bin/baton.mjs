#!/usr/bin/env node
// Entry point for `baton`: hands over to the process asked for (CLI, coordinator, worker or dashboard), running the compiled
// JavaScript in dist/ when it was built from the sources exactly as they are now, else the TypeScript sources
// through tsx, so that an edited source never runs stale. BATON_TSX=1 forces tsx. docs/performance.md, "Start-up".
import { distState } from "./dist-state.mjs";

const cmd = process.argv[2];
const entry =
  cmd === "coordinator" ? "services/coordinator/main"
  : cmd === "worker" ? "services/worker/main"
  : cmd === "ui" ? "services/ui/main"
  : "services/cli/main";
const root = new URL("../", import.meta.url);

/**
 * Runs the CLI bundle dist/cli.cjs (bin/build.mjs) compiled with the V8 code cache of the command
 * (dist/cli.cjs.<command>.cache), and writes that cache when there is none or V8 rejected it (another node version):
 * the next start of that command then skips parsing and compiling what this one ran. Node 20 has no module compile
 * cache of its own (22's module.enableCompileCache); this is the same idea, ~20 lines. The cache is written to a temporary file and renamed, so concurrent starts never read half
 * of one; failing to write it (a read-only install) only costs speed.
 */
async function runCliBundle() {
  const { createRequire, wrap } = (await import("node:module")).default;
  const { Script } = await import("node:vm");
  const fs = await import("node:fs");
  const file = `${decodeURIComponent(root.pathname)}dist/cli.cjs`; // bin/build.mjs's CLI_BUNDLE
  // One cache per command: a cache holds what its first run compiled, and `status` runs other code than `--help`.
  const cacheFile = `${file}.${/^[a-z]{1,20}$/.test(cmd ?? "") ? cmd : "help"}.cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(wrap(fs.readFileSync(file, "utf8")), { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    process.once("exit", () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        // read-only install: start without a cache next time too
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, file.slice(0, file.lastIndexOf("/")));
}

const forced = process.env.BATON_TSX === "1";
const dist = forced ? { fresh: false } : distState(decodeURIComponent(root.pathname));
if (dist.fresh) {
  if (entry === "services/cli/main") await runCliBundle();
  else await import(new URL(`dist/${entry}.js`, root).href);
} else {
  if (!forced && process.stderr.isTTY) {
    const why = dist.reason ?? "dist/ is not usable";
    const line = `baton: ${why}; running the sources through tsx (slower start; \`npm run build\` makes it fast)`;
    process.stderr.write(process.env.NO_COLOR ? `${line}\n` : `\x1b[2m${line}\x1b[22m\n`);
  }
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL(`${entry}.ts`, root).href);
}
