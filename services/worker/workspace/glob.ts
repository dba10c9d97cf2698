// Glob patterns over workspace-relative paths, as tasks name them in `files`: they live in shared/glob.ts (the
// coordinator's lock planning needs them too); re-exported here for the worker's modules.
export { globMatcher, globToRegExp } from "../../../shared/glob.ts";
