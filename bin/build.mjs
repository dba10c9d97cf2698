// Builds dist/ (the compiled JavaScript that `baton` runs) and tells whether it is fresh. Run by `npm ci` / `npm install`
// (the package's `prepare` script) and `npm run build`; used by the test run's global setup and the benchmark.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { contentHash, distState, STAMP } from "./dist-state.mjs";

export { contentHash, distState };

/** What the compiled output depends on: every runtime source, the compiler configuration and this script. */
const SOURCE_DIRS = ["services", "shared"];
const SOURCE_FILES = ["tsconfig.json", "tsconfig.build.json", "bin/build.mjs", "bin/dist-state.mjs"];
const SOURCE_EXT = /\.(ts|mts|cts|js|mjs|cjs|json)$/;
/** Files that tsc does not emit but the services load at run time, copied to dist/ at the same relative path. */
const RUNTIME_EXT = /\.(mjs|cjs|js|json)$/;

function walk(root, dir, out) {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(root, rel, out);
    else if (SOURCE_EXT.test(e.name)) out.push(rel);
  }
  return out;
}

/** Every source file as [path, size, mtimeMs, hash], sorted by path: any edit, addition or removal changes it. */
export function sourceListing(root) {
  const files = SOURCE_DIRS.flatMap((d) => walk(root, d, []));
  for (const f of SOURCE_FILES) if (existsSync(join(root, f))) files.push(f);
  return files.sort().map((f) => {
    const s = statSync(join(root, f));
    return [f, s.size, s.mtimeMs, contentHash(readFileSync(join(root, f)))];
  });
}

/** The CLI as one CommonJS file (bin/baton.mjs runs it with a V8 code cache, see there). */
export const CLI_BUNDLE = "cli.cjs";

/**
 * Bundles the CLI (services/cli/main.ts and everything it imports, dependencies included) into `<out>/cli.cjs` with
 * esbuild. Why: a `baton status` spends most of its start resolving, reading and compiling ~250 ES modules (zod alone
 * is ~95); one file, compiled once into a code cache, starts in about half the time (docs/performance.md, "Start-up").
 * The coordinator and worker are long-running and keep the plain compiled modules.
 */
async function bundleCli(root, out) {
  const { build: esbuild } = await import("esbuild");
  await esbuild({
    entryPoints: [join(root, "services/cli/main.ts")], outfile: join(out, CLI_BUNDLE),
    bundle: true, format: "cjs", platform: "node", target: "node20", logLevel: "error", legalComments: "none", minify: true, keepNames: false, sourcemap: false,
    // import.meta.url in a CommonJS bundle: the bundle's own URL (up.ts finds the bin above it).
    define: { "import.meta.url": "__bundleUrl" },
    banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
}

/**
 * Compiles services/ and shared/ (tsconfig.build.json: transpile only, the type check is `npm test`'s `tsc --noEmit`)
 * into a fresh directory, bundles the CLI (bundleCli), copies the runtime files tsc does not emit, writes the stamp, then swaps it in for dist/ by
 * renaming, so that no process ever sees a half-written dist/. Two builds at once are safe: the second to finish
 * discards its own copy. Returns the build time in ms; throws with tsc's output when tsc fails.
 */
export async function build(root, { log = () => {} } = {}) {
  const { spawnSync } = await import("node:child_process");
  const { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } = await import("node:fs");
  const { createRequire } = await import("node:module");
  const { dirname } = await import("node:path");
  const t0 = performance.now();
  const sources = sourceListing(root);
  const tsDir = dirname(createRequire(join(root, "package.json")).resolve("typescript/package.json"));
  const tsVersion = JSON.parse(readFileSync(join(tsDir, "package.json"), "utf8")).version;
  const tmp = join(root, `.dist-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const tsc = spawnSync(process.execPath, [join(tsDir, "bin", "tsc"), "-p", join(root, "tsconfig.build.json"), "--outDir", tmp], { cwd: root, encoding: "utf8" });
    if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (${tsc.error?.message ?? `exit ${tsc.status}`}):\n${tsc.stdout}${tsc.stderr}`);
    for (const [path] of sources) {
      if (SOURCE_DIRS.some((d) => path.startsWith(`${d}/`)) && RUNTIME_EXT.test(path)) cpSync(join(root, path), join(tmp, path), { preserveTimestamps: true });
    }
    await bundleCli(root, tmp);
    // Code that finds the bin relative to its own module (services/cli/commands/up.ts: ../../../bin/baton.mjs) lands in dist/bin/.
    mkdirSync(join(tmp, "bin"), { recursive: true });
    writeFileSync(join(tmp, "bin", "baton.mjs"), '// Written by bin/build.mjs: the bin as seen from dist/.\nimport "../../bin/baton.mjs";\n');
    writeFileSync(join(tmp, STAMP), `${JSON.stringify({ builtAt: new Date().toISOString(), typescript: tsVersion, node: process.version, sources })}\n`);
    // Between the two renames there is no dist/: a process starting then runs the sources through tsx.
    const dist = join(root, "dist");
    const old = join(root, `.dist-old-${process.pid}`);
    let moved = false;
    try {
      renameSync(dist, old);
      moved = true;
    } catch (e) {
      if (e.code !== "ENOENT") throw e;
    }
    try {
      renameSync(tmp, dist);
    } catch (e) {
      if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") {
        if (moved) renameSync(old, dist);
        throw e;
      }
      log("another build swapped in dist/ first; keeping that one");
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return performance.now() - t0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const say = (s) => process.stderr.write(`build: ${s}\n`);
  let hasTs = true;
  try {
    (await import("node:module")).createRequire(join(root, "package.json")).resolve("typescript/package.json");
  } catch {
    hasTs = false;
  }
  if (!hasTs) {
    // An install without devDependencies (npm ci --omit=dev): no compiler; `baton` runs the sources through tsx.
    say("typescript is not installed (devDependencies omitted?): dist/ not built; baton runs the sources through tsx");
  } else {
    try {
      const ms = await build(root, { log: say });
      say(`dist/ built in ${(ms / 1000).toFixed(1)} s`);
    } catch (e) {
      say(e.message);
      process.exit(1);
    }
  }
}
