// Loading the role catalogue: Baton's shipped roles/, then the operator's folders (config `planning.roles`), then the
// workspace's .claude/agents/ and .baton/roles/, a later file replacing a role of the same name. One bad file is a
// problem in the catalogue and never stops the others.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseRoleFile } from "./parse.ts";
import type { RoleCatalogue, RoleOrigin } from "./types.ts";

/** A file every copy of Baton's roles/ holds, to tell that folder from others named `roles` (such as this module's). */
const SHIPPED_MARKER = "planner.md";

/**
 * Baton's own roles/ folder: the first `roles/` holding planner.md found walking up from this module, so it works
 * from the sources (shared/roles/), the compiled modules (dist/shared/roles/) and the CLI bundle (dist/cli.cjs).
 * Throws when there is none (a broken install).
 */
export function shippedRolesDir(): string {
  const from = dirname(fileURLToPath(import.meta.url));
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "roles");
    if (existsSync(join(candidate, SHIPPED_MARKER))) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find Baton's roles/ folder (with ${SHIPPED_MARKER}) above ${from}`);
  }
}

/** The `*.md` files of `dir` in name order; a missing folder has none. */
function markdownFiles(dir: string): { files: string[] } | { error: string } {
  try {
    const entries = readdirSync(dir, { withFileTypes: true });
    return { files: entries.filter((entry) => !entry.isDirectory() && entry.name.endsWith(".md")).map((entry) => join(dir, entry.name)).sort() };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { files: [] };
    return { error: (err as Error).message };
  }
}

/** Reads every role file of `dir` into `catalogue` with `origin`, over what is there already. */
function loadDir(catalogue: RoleCatalogue, dir: string, origin: RoleOrigin): void {
  const listed = markdownFiles(dir);
  if ("error" in listed) {
    catalogue.problems.push({ file: dir, message: `cannot read the folder: ${listed.error}` });
    return;
  }
  for (const file of listed.files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      catalogue.problems.push({ file, message: `cannot read the file: ${(err as Error).message}` });
      continue;
    }
    const parsed = parseRoleFile(text, file, origin);
    if (!parsed.ok) {
      catalogue.problems.push(...parsed.problems);
      continue;
    }
    const earlier = catalogue.roles[parsed.role.name];
    if (earlier) catalogue.overridden.push({ name: parsed.role.name, source: earlier.source, by: file });
    catalogue.roles[parsed.role.name] = parsed.role;
  }
}

export interface LoadRolesOptions {
  /** The operator's folders (config `planning.roles`, already absolute), in order. */
  dirs?: readonly string[];
  /** The workspace whose .claude/agents/ and .baton/roles/ are loaded on top; none: only Baton's and the operator's. */
  workspace?: string | undefined;
  /** Baton's roles folder; default shippedRolesDir(). */
  shipped?: string | undefined;
}

/**
 * Loads the role catalogue, in order (a later file overrides a role of the same name, recorded in `overridden`):
 * shipped roles/ (origin baton) → each of `dirs` (config) → `<workspace>/.claude/agents/` (workspace-claude) →
 * `<workspace>/.baton/roles/` (workspace-baton). Only `*.md` files; missing folders are fine. Synchronous, reads the
 * disk each call (callers cache), never throws: unreadable folders and files and invalid files become `problems`.
 */
export function loadRoleCatalogue(opts: LoadRolesOptions): RoleCatalogue {
  const catalogue: RoleCatalogue = { roles: {}, problems: [], overridden: [] };
  let shipped = opts.shipped;
  if (shipped === undefined) {
    try {
      shipped = shippedRolesDir();
    } catch (err) {
      catalogue.problems.push({ file: "roles/", message: (err as Error).message });
    }
  }
  if (shipped !== undefined) loadDir(catalogue, resolve(shipped), "baton");
  for (const dir of opts.dirs ?? []) loadDir(catalogue, resolve(dir), "config");
  if (opts.workspace !== undefined) {
    loadDir(catalogue, resolve(opts.workspace, ".claude", "agents"), "workspace-claude");
    loadDir(catalogue, resolve(opts.workspace, ".baton", "roles"), "workspace-baton");
  }
  return catalogue;
}
