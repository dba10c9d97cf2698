// JUnit XML test reports — written by vitest, jest-junit, mocha-junit-reporter, pytest, node --test, ExUnit,
// go-junit-report, gotestsum, cargo-nextest and most CI tools — as test counts, from a report file or stdout. Pure.
import { counts, type SummaryParser } from "./summary.ts";
import type { TestCounts } from "./types.ts";
import { findAll, parseXml, type XmlElement } from "./xml.ts";

const ROOTS = new Set(["testsuites", "testsuite"]);

function has(element: XmlElement, ...names: string[]): boolean {
  return element.children.some((child) => names.includes(child.name));
}

/** "name (classname)", or just the name when the class adds nothing (jest-junit repeats it). */
function testName(testcase: XmlElement): string {
  const name = testcase.attrs.get("name") ?? "";
  const suite = testcase.attrs.get("classname") ?? "";
  return suite === "" || name.includes(suite) || suite.includes(name) ? name || suite : `${name} (${suite})`;
}

/** A count attribute (`skipped="2"`), 0 when absent or not a whole number. */
function attrCount(element: XmlElement, name: string): number {
  const value = Number(element.attrs.get(name));
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/** Skipped tests the suites declare: the root's own figure, else the sum over suites that hold no suites.
 *  mocha-junit-reporter lists pending tests only in these attributes, not as <testcase>s. */
function declaredSkipped(root: XmlElement): number {
  const own = attrCount(root, "skipped") + attrCount(root, "disabled");
  if (root.attrs.has("skipped") || root.attrs.has("disabled")) return own;
  return findAllSuites(root)
    .filter((suite) => !suite.children.some((child) => child.name === "testsuite"))
    .reduce((sum, suite) => sum + attrCount(suite, "skipped") + attrCount(suite, "disabled"), 0);
}

function findAllSuites(root: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  const visit = (node: XmlElement): void => {
    if (node.name === "testsuite") out.push(node);
    for (const child of node.children) if (child.name === "testsuite" || child.name === "testsuites") visit(child);
  };
  visit(root);
  return out;
}

/**
 * Test counts from a JUnit XML report: every <testcase> with a <failure> or <error> child failed, with a
 * <skipped> child was skipped, otherwise passed (retries recorded as <flakyFailure>/<rerunFailure> do not
 * fail it). Pending tests a reporter lists only in the suites' `skipped` attributes are added as skipped.
 * Failing tests are named "name (classname)". Throws an Error saying why when the text is not such a report.
 */
export function parseJunit(xml: string): TestCounts {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    throw new Error(`not a valid JUnit XML report: ${(err as Error).message}`, { cause: err });
  }
  if (!ROOTS.has(root.name)) throw new Error(`not a valid JUnit XML report: the root element is <${root.name}>, not <testsuites> or <testsuite>`);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const names: string[] = [];
  for (const testcase of findAll(root, "testcase")) {
    if (has(testcase, "failure", "error")) {
      failed++;
      names.push(testName(testcase));
    } else if (has(testcase, "skipped")) skipped++;
    else passed++;
  }
  skipped = Math.max(skipped, declaredSkipped(root));
  return counts("junit", passed, failed, skipped, passed + failed + skipped, names);
}

/** A JUnit XML document a runner printed on stdout (vitest `--reporter=junit` without an output file): the
 *  last root element that closes, parsed from the line it opens on. */
export const junit: SummaryParser = (lines) => {
  for (let end = lines.length - 1; end >= 0; end--) {
    const close = /<\/(testsuites|testsuite)>\s*$/.exec(lines[end]!) ?? /^\s*<(testsuites|testsuite)\b[^>]*\/>\s*$/.exec(lines[end]!);
    if (!close) continue;
    let attempts = 0;
    for (let start = end; start >= 0 && attempts < 5; start--) {
      const at = lines[start]!.indexOf(`<${close[1]}`);
      if (at < 0 || !/^\s*(?:<\?xml[^>]*\?>\s*)?$/.test(lines[start]!.slice(0, at))) continue;
      attempts++;
      try {
        const text = [lines[start]!.slice(at), ...lines.slice(start + 1, end + 1)].join("\n");
        return { counts: parseJunit(text), line: end };
      } catch {
        // Not the root this closing tag belongs to (a nested <testsuite>): look further up.
      }
    }
    return null;
  }
  return null;
};
