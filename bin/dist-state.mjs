// Whether dist/ may run: the one freshness rule, shared by bin/baton.mjs (every start) and bin/build.mjs (the build,
// the tests' global setup, the benchmark). Only node:fs, so that a start pays for one small module.
import { readFileSync, statSync } from "node:fs";

/** The build stamp in dist/: every source the output depends on, as [path, size, mtimeMs, hash], taken before that build. */
export const STAMP = ".build-stamp.json";

/**
 * FNV-1a (32 bits, hex) of a file's bytes: consulted only when a file's mtime differs from the stamp's but its size does
 * not, as after `npm install` of a packed tarball, which gives every file a new mtime. Plain JS, so a start needs no
 * node:crypto (~10-25 ms to load); an edit that keeps the size and the hash is a 1-in-4-billion chance, not a threat model.
 */
export function contentHash(bytes) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return (hash >>> 0).toString(16);
}

/**
 * Whether `<root>/dist` was built from the sources exactly as they are now: every file in its stamp still has the
 * same size, and the same mtime or (an installed copy) the same content hash. One stat per file, no directory walk: a file added since then can only run if an edited (so
 * listed and changed) file imports it. `reason` says why not (bin/baton.mjs prints it on a terminal). Never throws:
 * anything unreadable counts as not fresh. `root` is the repository folder with a trailing slash or not.
 */
export function distState(root) {
  const dir = root.endsWith("/") ? root : `${root}/`;
  let sources;
  try {
    sources = JSON.parse(readFileSync(`${dir}dist/${STAMP}`, "utf8")).sources;
  } catch {
    return { fresh: false, reason: "dist/ is not built" };
  }
  if (!Array.isArray(sources) || sources.length === 0) return { fresh: false, reason: "dist/ has no valid build stamp" };
  for (const entry of sources) {
    const [path, size, mtime, hash] = Array.isArray(entry) ? entry : [];
    if (typeof path !== "string") return { fresh: false, reason: "dist/ has no valid build stamp" };
    const stat = statSync(dir + path, { throwIfNoEntry: false });
    const same = stat && stat.size === size && (stat.mtimeMs === mtime || (typeof hash === "string" && contentHash(readFileSync(dir + path)) === hash));
    if (!same) return { fresh: false, reason: `${path} changed since dist/ was built` };
  }
  return { fresh: true };
}
