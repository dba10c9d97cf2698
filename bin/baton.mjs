#!/usr/bin/env node
// Entry point for `baton`: hands over to the process asked for (CLI, coordinator or worker), running the compiled
// JavaScript in dist/ when it was built from the sources exactly as they are now, else the TypeScript sources
// through tsx, so that an edited source never runs stale. BATON_TSX=1 forces tsx. docs/performance.md, "Start-up".
import { readFileSync, statSync } from "node:fs";

const cmd = process.argv[2];
const entry =
  cmd === "coordinator" ? "services/coordinator/main"
  : cmd === "worker" ? "services/worker/main"
  : "services/cli/main";
const root = new URL("../", import.meta.url);

/**
 * The fast path of bin/build.mjs's `distState` (the same rule; keep the two in step), inline so that a start loads no
 * other module: every file in dist/'s build stamp still has the size and mtime recorded before that build.
 */
function distIsFresh() {
  const dir = decodeURIComponent(root.pathname);
  try {
    const { sources } = JSON.parse(readFileSync(`${dir}dist/.build-stamp.json`, "utf8"));
    if (!Array.isArray(sources) || sources.length === 0) return false;
    for (const [path, size, mtime] of sources) {
      const s = statSync(dir + path, { throwIfNoEntry: false });
      if (!s || s.size !== size || s.mtimeMs !== mtime) return false;
    }
    return true;
  } catch {
    return false;
  }
}

const forced = process.env.BATON_TSX === "1";
if (!forced && distIsFresh()) {
  await import(new URL(`dist/${entry}.js`, root).href);
} else {
  if (!forced && process.stderr.isTTY) {
    const { fileURLToPath } = await import("node:url");
    const { distState } = await import("./build.mjs");
    const why = distState(fileURLToPath(root)).reason ?? "dist/ is not usable";
    const line = `baton: ${why}; running the sources through tsx (slower start; \`npm run build\` makes it fast)`;
    process.stderr.write(process.env.NO_COLOR ? `${line}\n` : `\x1b[2m${line}\x1b[22m\n`);
  }
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL(`${entry}.ts`, root).href);
}
