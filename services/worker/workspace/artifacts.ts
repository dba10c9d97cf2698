// Artifacts before implementation (issue 12): the files a task declares it `produces` must exist and parse before
// its dependents start; an OpenAPI description must be valid OpenAPI 3, a JSON Schema valid JSON Schema.
import { posix } from "node:path";
import type { ArtifactProblem } from "../../../shared/protocol/workspace.ts";
import { validateOpenApi } from "./artifacts-openapi.ts";
import { dataFormat, describe, isRecord, loadText, parseData, type ReadArtifact } from "./artifacts-parse.ts";
import { isJsonSchemaUri, validateJsonSchema } from "./artifacts-schema.ts";

export { MAX_ARTIFACT_BYTES, type ReadArtifact } from "./artifacts-parse.ts";

/** Bounds of ArtifactProblem on the wire. */
const MAX_MESSAGES = 50;
const MAX_MESSAGE_CHARS = 2000;

/**
 * Checks each declared artifact and returns one problem per file that is missing or invalid ([] = all fine), in
 * the order given (a path listed twice is checked once). `read` returns a file's bytes by its repository-relative
 * path, or undefined when it does not exist (callers read a worktree or git's index).
 *
 * What each file must satisfy: it exists, is at most 5 MiB and is not blank; `.json` parses as JSON, `.yaml`/`.yml`
 * as YAML; a JSON/YAML document with a top-level `openapi` (or a name containing "openapi") is valid OpenAPI 3.0/3.1
 * (3.2 too), `swagger` is refused; a `.schema.json` file, or a document whose `$schema` points at json-schema.org,
 * is valid JSON Schema of its dialect. Anything else (Markdown…) only has to be non-blank.
 *
 * Never throws (a validator that fails becomes the file's message), never touches the network, and reads only
 * through `read` (also for files an OpenAPI description's `$ref`s name). Messages name the place, e.g.
 * `paths./users.get.responses.200: must have required property 'description'`.
 */
export async function validateArtifacts(paths: readonly string[], read: (path: string) => Promise<Buffer | undefined>): Promise<ArtifactProblem[]> {
  const problems: ArtifactProblem[] = [];
  for (const path of new Set(paths)) {
    let messages: string[];
    try {
      messages = await checkArtifact(path, read);
    } catch (error) {
      messages = [`could not be validated (the validator failed): ${describe(error)}`];
    }
    if (messages.length > 0) problems.push({ path, messages: bounded(messages) });
  }
  return problems;
}

/** One file's problems; [] when it is fine. */
async function checkArtifact(path: string, read: ReadArtifact): Promise<string[]> {
  const loaded = await loadText(path, read);
  if ("messages" in loaded) return loaded.messages;
  const format = dataFormat(path);
  if (!format) return [];
  const parsed = parseData(format, loaded.text);
  if ("messages" in parsed) return parsed.messages;
  const namedOpenApi = /openapi/i.test(posix.basename(path));
  if (parsed.documents !== 1) {
    return namedOpenApi ? [`holds ${parsed.documents} YAML documents; an OpenAPI description is one`] : [];
  }
  const doc = parsed.value;
  const top = isRecord(doc) ? doc : undefined;
  if (namedOpenApi || top?.["openapi"] !== undefined || top?.["swagger"] !== undefined) return validateOpenApi(path, doc, read);
  if (path.toLowerCase().endsWith(".schema.json") || isJsonSchemaUri(top?.["$schema"])) return validateJsonSchema(doc);
  return [];
}

/** Messages within ArtifactProblem's bounds: each at most MAX_MESSAGE_CHARS, at most MAX_MESSAGES (the last says how many more). */
function bounded(messages: readonly string[]): string[] {
  const cut = (message: string): string => (message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message);
  if (messages.length <= MAX_MESSAGES) return messages.map(cut);
  return [...messages.slice(0, MAX_MESSAGES - 1).map(cut), `… and ${messages.length - MAX_MESSAGES + 1} more`];
}
