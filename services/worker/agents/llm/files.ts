// Writing the files an `llm` answer carries into the task's workspace, confined to it: every folder on the way is
// checked after resolving symlinks, so neither a path nor a symlink already in the workspace can lead outside.
import { lstat, mkdir, realpath, stat, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { OutputFile } from "./output.ts";
import { unsafePathReason } from "./output.ts";

/** True when `path` is `root` or inside it (both already resolved). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}

/**
 * The real path `rel` names under the workspace `root` (itself resolved), creating missing folders on the way.
 * Rejects (with a message naming the path) when a segment is a symlink leading outside the workspace, a folder
 * on the way is a file, or the target is a folder. Folders created before a rejection stay (they are empty).
 */
export async function confinedTarget(root: string, rel: string): Promise<string> {
  const reason = unsafePathReason(rel);
  if (reason) throw new Error(`path "${rel}" ${reason}`);
  const segments = rel.split("/");
  let current = root;
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const next = join(current, segment);
    const st = await lstat(next).catch(() => undefined);
    if (!st) {
      if (!last) await mkdir(next).catch((err: NodeJS.ErrnoException) => { if (err.code !== "EEXIST") throw err; });
      current = next;
      continue;
    }
    current = st.isSymbolicLink() ? await resolveLink(root, rel, next) : next;
    const kind = await stat(current);
    if (!last && !kind.isDirectory()) throw new Error(`path "${rel}": "${segments.slice(0, index + 1).join("/")}" is not a folder`);
    if (last && kind.isDirectory()) throw new Error(`path "${rel}" is a folder`);
  }
  return current;
}

async function resolveLink(root: string, rel: string, link: string): Promise<string> {
  const real = await realpath(link).catch(() => undefined);
  if (!real) throw new Error(`path "${rel}" goes through a dangling symlink`);
  if (!isInside(root, real)) throw new Error(`path "${rel}" leads outside the workspace through a symlink (to ${real})`);
  return real;
}

/**
 * Writes `files` into the workspace `dir`, in order, each whole (created or replaced), calling `onWritten` after
 * each. Stops at the first file it may not or cannot write and resolves with the error; the files before it stay
 * written. Never rejects.
 */
export async function writeOutputFiles(dir: string, files: readonly OutputFile[], onWritten: (path: string) => void): Promise<{ written: string[]; error?: string }> {
  const written: string[] = [];
  let root: string;
  try {
    root = await realpath(dir);
  } catch (err) {
    return { written, error: `cannot resolve the workspace ${dir}: ${(err as Error).message}` };
  }
  for (const file of files) {
    try {
      const target = await confinedTarget(root, file.path);
      await writeFile(target, file.content);
    } catch (err) {
      return { written, error: (err as Error).message };
    }
    written.push(file.path);
    onWritten(file.path);
  }
  return { written };
}
