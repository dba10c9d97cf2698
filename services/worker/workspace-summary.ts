// A short, bounded description of a workspace for a planner run: its top-level tree, package.json (name, scripts,
// dependencies), the test runner when recognisable, the start of its README and its languages by file count.
// Reads only; never throws (whatever cannot be read is left out), and stops after a fixed number of entries.
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";

/** Folders never listed nor counted: dependencies, VCS data and build output. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(["node_modules", ".git", "dist", "build", "target", "coverage", ".venv", "venv", "__pycache__", ".next", ".cache"]);
/** Entries of the tree shown, files counted for the languages, README lines kept. */
export const SUMMARY_LIMITS = { treeEntries: 200, treeDepth: 2, countedFiles: 5000, readmeLines: 40, renderedChars: 16_000 } as const;

export interface WorkspaceSummary {
  /** Workspace paths, folders ending in `/`, breadth first up to `treeDepth` levels (`treeCut`: more were left out). */
  tree: string[];
  treeCut: boolean;
  packageJson?: { name?: string | undefined; scripts: Record<string, string>; dependencies: string[]; devDependencies: string[] } | undefined;
  /** The test runner recognised from package.json or the files present (vitest, jest, node --test, pytest, go test, …). */
  testRunner?: string | undefined;
  readme?: { file: string; lines: string[] } | undefined;
  /** Language → number of files, largest first. */
  languages: [string, number][];
}

const LANGUAGES: Readonly<Record<string, string>> = {
  ".ts": "TypeScript", ".tsx": "TypeScript", ".mts": "TypeScript", ".cts": "TypeScript", ".js": "JavaScript", ".jsx": "JavaScript",
  ".mjs": "JavaScript", ".cjs": "JavaScript", ".py": "Python", ".go": "Go", ".rs": "Rust", ".java": "Java", ".kt": "Kotlin",
  ".rb": "Ruby", ".php": "PHP", ".cs": "C#", ".c": "C", ".h": "C", ".cpp": "C++", ".hpp": "C++", ".swift": "Swift", ".scala": "Scala",
  ".sql": "SQL", ".sh": "Shell", ".css": "CSS", ".scss": "CSS", ".html": "HTML", ".vue": "Vue", ".svelte": "Svelte", ".md": "Markdown",
  ".yaml": "YAML", ".yml": "YAML", ".json": "JSON", ".toml": "TOML", ".proto": "Protobuf",
};

/** Summarises `dir`. Never rejects: an unreadable folder gives an empty summary. */
export async function summarizeWorkspace(dir: string): Promise<WorkspaceSummary> {
  const walked = await walk(dir);
  const packageJson = await readPackageJson(dir);
  return {
    tree: walked.tree,
    treeCut: walked.treeCut,
    packageJson,
    testRunner: testRunnerOf(packageJson, walked.topFiles),
    readme: await readReadme(dir, walked.topFiles),
    languages: [...walked.counts.entries()].sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0])),
  };
}

/** Breadth-first: the tree (bounded in depth and entries) and the file counts per language (bounded in files). */
async function walk(root: string): Promise<{ tree: string[]; treeCut: boolean; topFiles: string[]; counts: Map<string, number> }> {
  const tree: string[] = [];
  const topFiles: string[] = [];
  const counts = new Map<string, number>();
  let treeCut = false;
  let counted = 0;
  const queue: { rel: string; depth: number }[] = [{ rel: "", depth: 0 }];
  while (queue.length && counted < SUMMARY_LIMITS.countedFiles) {
    const { rel, depth } = queue.shift()!;
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    // code-point order, the same on every machine whatever its locale
    entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const isDir = entry.isDirectory();
      if (isDir && SKIPPED_DIRS.has(entry.name)) continue;
      if (depth < SUMMARY_LIMITS.treeDepth) {
        if (tree.length < SUMMARY_LIMITS.treeEntries) tree.push(isDir ? `${path}/` : path);
        else treeCut = true;
      }
      if (isDir) queue.push({ rel: path, depth: depth + 1 });
      else if (entry.isFile()) {
        if (depth === 0) topFiles.push(entry.name);
        const language = LANGUAGES[extname(entry.name).toLowerCase()];
        if (language) counts.set(language, (counts.get(language) ?? 0) + 1);
        if (++counted >= SUMMARY_LIMITS.countedFiles) break;
      }
    }
  }
  return { tree, treeCut: treeCut || queue.some((item) => item.depth < SUMMARY_LIMITS.treeDepth), topFiles, counts };
}

async function readPackageJson(dir: string): Promise<WorkspaceSummary["packageJson"]> {
  const text = await readFile(join(dir, "package.json"), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const scripts: Record<string, string> = {};
  if (isRecord(parsed.scripts)) for (const [name, command] of Object.entries(parsed.scripts)) if (typeof command === "string") scripts[name] = command.slice(0, 300);
  const names = (value: unknown): string[] => (isRecord(value) ? Object.keys(value).slice(0, 100) : []);
  return { name: typeof parsed.name === "string" ? parsed.name : undefined, scripts, dependencies: names(parsed.dependencies), devDependencies: names(parsed.devDependencies) };
}

/** The test runner as package.json or the top-level files show it; undefined when none is recognisable. */
function testRunnerOf(pkg: WorkspaceSummary["packageJson"], topFiles: readonly string[]): string | undefined {
  if (pkg) {
    const deps = new Set([...pkg.dependencies, ...pkg.devDependencies]);
    const test = pkg.scripts.test ?? "";
    for (const runner of ["vitest", "jest", "mocha", "ava", "tap", "playwright"]) if (deps.has(runner) || deps.has(`@${runner}/test`) || test.includes(runner)) return runner;
    if (/node\s+(--[\w-]+\s+)*--test/.test(test)) return "node --test";
    if (test && !/no test specified/.test(test)) return `npm test (${test})`;
  }
  const has = (file: string) => topFiles.includes(file);
  if (has("pytest.ini") || has("conftest.py") || has("pyproject.toml") || has("tox.ini")) return "pytest";
  if (has("go.mod")) return "go test";
  if (has("Cargo.toml")) return "cargo test";
  if (has("pom.xml")) return "maven (mvn test)";
  if (has("build.gradle") || has("build.gradle.kts")) return "gradle test";
  return undefined;
}

async function readReadme(dir: string, topFiles: readonly string[]): Promise<WorkspaceSummary["readme"]> {
  const file = topFiles.find((name) => /^readme(\.(md|markdown|txt|rst))?$/i.test(name));
  if (!file) return undefined;
  const text = await readFile(join(dir, file), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  return { file, lines: text.split(/\r?\n/).slice(0, SUMMARY_LIMITS.readmeLines).map((line) => line.slice(0, 300)) };
}

/** The summary as Markdown for a prompt, at most SUMMARY_LIMITS.renderedChars characters. Pure. */
export function renderWorkspaceSummary(summary: WorkspaceSummary): string {
  const parts: string[] = [];
  const pkg = summary.packageJson;
  if (pkg) {
    const scripts = Object.entries(pkg.scripts).map(([name, command]) => `  - ${name}: ${command}`);
    parts.push([
      `package.json${pkg.name ? `: ${pkg.name}` : ""}`,
      scripts.length ? `- scripts:\n${scripts.join("\n")}` : "- scripts: none",
      `- dependencies: ${pkg.dependencies.join(", ") || "none"}`,
      `- devDependencies: ${pkg.devDependencies.join(", ") || "none"}`,
    ].join("\n"));
  }
  parts.push(`Test runner: ${summary.testRunner ?? "not recognised"}`);
  if (summary.languages.length) parts.push(`Languages (files): ${summary.languages.map(([language, count]) => `${language} ${count}`).join(", ")}`);
  parts.push(summary.tree.length ? `Files and folders:\n${summary.tree.join("\n")}${summary.treeCut ? "\n… (more not shown)" : ""}` : "The workspace is empty.");
  if (summary.readme) parts.push(`Start of ${summary.readme.file}:\n${summary.readme.lines.map((line) => `> ${line}`).join("\n")}`);
  const text = parts.join("\n\n");
  return text.length > SUMMARY_LIMITS.renderedChars ? `${text.slice(0, SUMMARY_LIMITS.renderedChars)}\n… (cut)` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
