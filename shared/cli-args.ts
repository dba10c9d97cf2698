// How a wrong command line is told to a person, the same way by all three entry points (CLI, coordinator, worker):
// Node's parseArgs errors as one line each, an unknown flag with the nearest known one. No dependencies (start-up).
import { nearest } from "./protocol/suggest.ts";

/**
 * A `node:util` parseArgs error as one line for a person: an unknown flag names the nearest of `flags` ("unknown flag
 * --jsn; did you mean --json?"), the others are Node's message reworded.
 */
export function argsErrorMessage(err: Error, flags: readonly string[]): string {
  const unknown = /^Unknown option '([^']+)'/.exec(err.message)?.[1];
  if (!unknown) {
    return err.message
      .replace(/^Option '(.+?)(?: <value>)?' argument missing$/, "$1 needs a value")
      .replace(/^Option '([^']+)'/, "$1")
      .replace(/^Unexpected argument '([^']+)'.*$/s, "unexpected argument $1")
      .replace(/\s*\n\s*/g, " ");
  }
  const near = nearest(unknown.replace(/^-+/, "").split("=")[0]!, flags);
  return `unknown flag ${unknown}${near ? `; did you mean --${near}?` : ""}`;
}
