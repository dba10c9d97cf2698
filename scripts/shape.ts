// `npx tsx scripts/shape.ts`: the shape rules of docs/design.md for services/ and shared/ — no source file over 300
// lines, no function over 80 lines (a file or function may exceed them with a reason in SHAPE_EXCEPTIONS), and no
// single-letter name outside a short lambda (a one-line `(x) => …`).
// Functions are found by a brace-matching scan of our own formatting (strings and comments are skipped), so
// it needs no compiler API. Exit code 1 with the list when a rule is broken.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const MAX_FILE_LINES = 300;
export const MAX_FUNCTION_LINES = 80;
/** `path` or `path#function` → why it may be longer. */
export const SHAPE_EXCEPTIONS: Record<string, string> = {};

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const START = /^\s*(?:export\s+)?(?:async\s+)?(?:function\*?\s+(\w+)|(?:(?:private|public|protected|static|readonly|async|override)\s+)*(\w+)\s*(?:<[^>]*>)?\(.*\)\s*(?::\s*[^{]+)?\{\s*$|(?:const|let)\s+(\w+)\s*=\s*(?:async\s*)?(?:\([^)]*\)|\w+)\s*(?::\s*[^=]+)?=>\s*\{?\s*$|(?:readonly\s+)?(\w+)\s*=\s*once\()/;

export interface Finding {
  file: string;
  name?: string;
  lines: number;
  line?: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(name) && !name.endsWith(".d.ts") && !name.endsWith(".d.mts") ? [path] : [];
  });
}

/** The text with string, template and comment contents blanked (so their braces do not count). */
function code(text: string): string {
  return text.replace(/\/\/.*$|\/\*[\s\S]*?\*\/|`(?:\\[\s\S]|[^`\\])*`|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/gm, (m) => m.replace(/[^\n]/g, " "));
}

/** Functions longer than the limit in one file's text. */
export function longFunctions(file: string, text: string, max = MAX_FUNCTION_LINES): Finding[] {
  const raw = text.split("\n");
  const lines = code(text).split("\n");
  const out: Finding[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = START.exec(raw[i]!);
    if (!m || !lines[i]!.includes("{") && !lines[i]!.includes("(")) continue;
    const name = m[1] ?? m[2] ?? m[3] ?? m[4] ?? "?";
    if (["if", "for", "while", "switch", "catch", "return"].includes(name)) continue;
    let depth = 0;
    let opened = false;
    let end = i;
    for (let j = i; j < lines.length; j++) {
      for (const ch of lines[j]!) {
        if (ch === "{" || ch === "(") (depth++, (opened = true));
        else if (ch === "}" || ch === ")") depth--;
      }
      end = j;
      if (opened && depth <= 0) break;
    }
    const length = end - i + 1;
    if (length > max) out.push({ file, name, lines: length, line: i + 1 });
  }
  return out;
}

/** Declarations of single-letter names: const/let/var, for-loop variables, and function or method parameters. */
const SINGLE = [
  /\b(?:const|let|var)\s+([A-Za-z])\b\s*[=:;]/g,
  /\bfor\s*(?:await\s*)?\(\s*(?:const|let)\s+([A-Za-z])\b/g,
  /\bcatch\s*\(\s*([A-Za-z])\s*\)/g,
  /\bfor\s*\(\s*(?:const|let)\s+\[[^\]]*?\b([A-Za-z])\b[^\]]*\]/g,
  /(?:function\s*\w*|^\s*(?:(?:private|public|protected|static|async|override)\s+)*(?!(?:if|for|while|switch|catch|return)\b)\w+)\s*(?:<[^>]*>)?\(([^)]*)\)\s*(?::[^{=]+)?\{/gm,
];

/** Single-letter names declared outside short lambdas in one file's text (line numbers, 1-based). */
export function singleLetterNames(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  const lines = code(text).split("\n");
  lines.forEach((line, lineIndex) => {
    for (const [patternIndex, re] of SINGLE.entries()) {
      for (const match of line.matchAll(re)) {
        const names = patternIndex === 4 ? match[1]!.split(",").map((p) => /^\s*(?:\.\.\.)?([A-Za-z_$][\w$]*)/.exec(p)?.[1] ?? "") : [match[1]!];
        for (const name of names) if (name.length === 1 && name !== "_") out.push({ file, name, lines: 1, line: lineIndex + 1 });
      }
    }
  });
  return out;
}

/** Every file and function in services/ and shared/ over its limit, without a written exception. */
export function findings(root = ROOT): Finding[] {
  const out: Finding[] = [];
  for (const path of ["services", "shared"].flatMap((d) => sourceFiles(join(root, d)))) {
    const file = relative(root, path);
    const text = readFileSync(path, "utf8");
    const count = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (count > MAX_FILE_LINES && !SHAPE_EXCEPTIONS[file]) out.push({ file, lines: count });
    for (const f of longFunctions(file, text)) if (!SHAPE_EXCEPTIONS[`${file}#${f.name}`]) out.push(f);
    out.push(...singleLetterNames(file, text));
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const found = findings();
  for (const f of found) {
    if (f.name && f.name.length === 1) console.log(`${f.file}:${f.line} single-letter name "${f.name}"`);
    else console.log(f.name ? `${f.file}:${f.line} function ${f.name}: ${f.lines} lines (max ${MAX_FUNCTION_LINES})` : `${f.file}: ${f.lines} lines (max ${MAX_FILE_LINES})`);
  }
  console.log(found.length ? `${found.length} over the limits` : "every file and function is within the limits");
  process.exit(found.length ? 1 : 0);
}
