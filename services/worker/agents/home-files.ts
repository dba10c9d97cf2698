// Seeding a config home from the operator's own (the dialects' `seedHome`): settings files copied when they change,
// credential files linked (a token refresh writes through) or copied owner-only. Never writes a key anywhere.
import { chmod, copyFile, readFile, stat, symlink } from "node:fs/promises";

/** Copies `from` over `to` when it exists and differs (cheap: settings files are small). */
export async function copyIfChanged(from: string, to: string): Promise<void> {
  const wanted = await readFile(from).catch(() => undefined);
  if (wanted === undefined) return;
  const have = await readFile(to).catch(() => undefined);
  if (have && have.equals(wanted)) return;
  await copyFile(from, to);
}

/** Copies `from` over `to` (owner-only) when it exists and is newer, or `to` is missing. */
export async function copyIfNewer(from: string, to: string): Promise<void> {
  const source = await stat(from).catch(() => undefined);
  if (!source?.isFile()) return;
  const target = await stat(to).catch(() => undefined);
  if (target && target.mtimeMs >= source.mtimeMs) return;
  await copyFile(from, to);
  await chmod(to, 0o600);
}

/** Links `to` to the operator's `from` (a credential stays where the operator keeps it; a refresh writes through). */
export async function linkIfMissing(from: string, to: string): Promise<void> {
  if (!(await stat(from).then(() => true, () => false))) return;
  await symlink(from, to).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
}
