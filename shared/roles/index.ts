// Role files (docs/planning.md, "Role files"): Markdown with YAML front matter, one per role; the body is the
// role's prompt. Parsed here, loaded in layers (Baton's, the operator's, the workspace's) by loadRoleCatalogue.
export { loadRoleCatalogue, shippedRolesDir, type LoadRolesOptions } from "./load.ts";
export { parseRoleFile } from "./parse.ts";
export { KNOWN_KEYS, RoleFrontMatter, type RoleCatalogue, type RoleFile, type RoleOrigin, type RoleProblem } from "./types.ts";
