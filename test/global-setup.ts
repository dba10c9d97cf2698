// Builds dist/ once before a test run when it is not fresh, so that the e2e suites, which spawn `node bin/baton.mjs`,
// run the compiled JavaScript that users run. Unit and integration tests import the sources and do not depend on it.
import { fileURLToPath } from "node:url";
import { build, distState } from "../bin/build.mjs";

export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const before = distState(root);
  if (before.fresh) return;
  const ms = await build(root);
  console.log(`global setup: built dist/ in ${(ms / 1000).toFixed(1)} s (${before.reason})`);
}
