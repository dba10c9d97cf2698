// Session files of agent CLIs copied between config homes (the dialects' `copySession`): copies that never leave a
// half-written file under its real name, and the time a session's files were last written.
import { randomBytes } from "node:crypto";
import { copyFile, cp, mkdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** A temporary name beside `path` (same folder, so a rename moves it into place at once). */
const tempBeside = (path: string): string => `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;

/**
 * Copies file `from` to `to` (creating its folders) and puts it in place with one rename: a reader sees the old `to`
 * or the whole copy, never a part. Rejects when `from` cannot be read or `to` cannot be written (nothing left behind).
 */
export async function copyWhole(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const temp = tempBeside(to);
  try {
    await copyFile(from, temp);
    await rename(temp, to);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/** Writes `text` to `path` the same way: the old content or the new, never a part. */
export async function writeWhole(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempBeside(path);
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/** Copies folder `from` into `to` (merged; its files replace those of the same name) when `from` exists. */
export async function copyFolderIfAny(from: string, to: string): Promise<void> {
  if (!(await stat(from).then((st) => st.isDirectory(), () => false))) return;
  await cp(from, to, { recursive: true, force: true });
}

/** When `path` was last written (ms since the epoch), undefined when it is not a readable file. Never rejects. */
export async function modifiedAt(path: string): Promise<number | undefined> {
  return stat(path).then((st) => (st.isFile() ? st.mtimeMs : undefined), () => undefined);
}
