// What a role file is once read (docs/planning.md, "Role files"): the front matter people keep for coding-agent
// subagents (`.claude/agents/*.md`) plus Baton's own keys, the Markdown body as the role's prompt, and where it came from.
import * as z from "zod";
import { AGENTS } from "../config.ts";
import { Role } from "../protocol/common.ts";
import { WorkspacePath } from "../protocol/feature.ts";
import { GateName } from "../protocol/gates.ts";

/** Where a role file was found, lowest first: each later origin overrides a role of the same name. */
export type RoleOrigin = "baton" | "config" | "workspace-claude" | "workspace-baton";

export interface RoleFile {
  /** Front matter `name`, else the file's base name; always a valid Role id. */
  name: string;
  description?: string;
  tools?: string[];
  model?: string;
  color?: string;
  /** Baton's keys: shown by `baton roles` and read by planners; the worker never lets a file pick its agent or concurrency. */
  agent?: string;
  gates?: string[];
  maxConcurrency?: number;
  produces?: string[];
  reads?: string[];
  /** The Markdown body (trimmed), handed to the role's executor with each task. */
  prompt: string;
  /** Front-matter keys Baton does not know, tolerated and kept. */
  extra: Record<string, unknown>;
  /** Absolute path of the file. */
  source: string;
  origin: RoleOrigin;
}

/** Why a file did not load: the file, the 1-based line in it and the front-matter field, when known. */
export interface RoleProblem {
  file: string;
  line?: number;
  field?: string;
  message: string;
}

export interface RoleCatalogue {
  roles: Record<string, RoleFile>;
  problems: RoleProblem[];
  /** A role of the same name loaded earlier (`source`) replaced by a later file (`by`). */
  overridden: { name: string; source: string; by: string }[];
}

/** `a, b` or `[a, b]` → a list (Claude Code's `tools` is often one comma-separated string). */
const commaList = (value: unknown): unknown =>
  typeof value === "string" ? value.split(",").map((item) => item.trim()).filter(Boolean) : value;
/** `x` or `[x]` → a list (a path may hold a comma, so it is never split). */
const oneOrMany = (value: unknown): unknown => (typeof value === "string" ? [value] : value);

const LIST = "must be a comma-separated string or a list of strings";
const PATHS = "must be a workspace-relative path or a list of them";

/** The keys Baton reads; any other key is kept in `extra`. Every key is optional. */
export const RoleFrontMatter = z.object({
  name: Role.optional(),
  description: z.string().optional(),
  tools: z.preprocess(commaList, z.array(z.string().min(1), { error: LIST })).optional(),
  model: z.string().min(1).max(200).optional(),
  color: z.string().optional(),
  agent: z.enum(AGENTS, { error: `must be one of ${AGENTS.join(", ")}` }).optional(),
  gates: z.preprocess(commaList, z.array(GateName, { error: LIST })).optional(),
  maxConcurrency: z.int({ error: "must be a whole number, at least 1" }).min(1, "must be at least 1").optional(),
  produces: z.preprocess(oneOrMany, z.array(WorkspacePath, { error: PATHS }).max(50)).optional(),
  reads: z.preprocess(oneOrMany, z.array(WorkspacePath, { error: PATHS }).max(50)).optional(),
});
export type RoleFrontMatter = z.infer<typeof RoleFrontMatter>;

export const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(RoleFrontMatter.shape));
