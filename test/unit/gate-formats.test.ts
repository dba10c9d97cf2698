// The formats any runner can print — TAP 13/14 and JUnit XML — on inputs the captured fixtures do not
// cover: generated TAP trees (property), directives, bail-outs, short plans, and XML written every legal way.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GateConfig } from "../../shared/config.ts";
import { parseJunit, parseTestCounts } from "../../shared/gates/parsers.ts";
import { parseXml } from "../../shared/gates/xml.ts";

type Status = "pass" | "fail" | "skip" | "todo";
interface Leaf { name: string; status: Status }
type Entry = Leaf | { name: string; children: Leaf[] };

const point = (status: Status, n: number, name: string): string =>
  `${status === "fail" ? "not ok" : "ok"} ${n} - ${name}${status === "skip" ? " # SKIP not now" : status === "todo" ? " # TODO later" : ""}`;

/** Renders entries the way node --test and node-tap do: subtests indented 4, YAML diagnostics, plans. */
function render(entries: Entry[], planFirst: boolean, version: boolean): string {
  const out: string[] = version ? ["TAP version 14"] : [];
  if (planFirst) out.push(`1..${entries.length}`);
  entries.forEach((entry, index) => {
    out.push(`# Subtest: ${entry.name}`);
    if ("children" in entry) {
      entry.children.forEach((leaf, k) => out.push(`    ${point(leaf.status, k + 1, leaf.name)}`));
      out.push(`    1..${entry.children.length}`);
    }
    const status = "children" in entry ? (entry.children.some((c) => c.status === "fail") ? "fail" : "pass") : entry.status;
    out.push(point(status, index + 1, entry.name));
    // A diagnostic block whose text looks like test points must be skipped.
    if (status === "fail") out.push("  ---", "  error: |-", "    not ok 99 - inside yaml", "    ok 98 - inside yaml", "  ...");
  });
  if (!planFirst) out.push(`1..${entries.length}`);
  return ["> pkg@1.0.0 test", ...out, "# tests done"].join("\n");
}

describe("TAP (property): a generated TAP tree reads as its leaves", () => {
  const name = fc.stringMatching(/^[a-z][a-z ]{0,18}[a-z]$/);
  const leaf = fc.record({ name, status: fc.constantFrom<Status>("pass", "fail", "skip", "todo") });
  const entry: fc.Arbitrary<Entry> = fc.oneof(leaf, fc.record({ name, children: fc.array(leaf, { minLength: 1, maxLength: 5 }) }));

  it("counts every leaf once, never a parent, and names the failing leaves in order (at most 10)", () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 12 }), fc.boolean(), fc.boolean(), (entries, planFirst, version) => {
        const leaves = entries.flatMap((e) => ("children" in e ? e.children : [e]));
        const by = (status: Status) => leaves.filter((l) => l.status === status);
        const got = parseTestCounts(render(entries, planFirst, version), "tap")!;
        expect(got).toMatchObject({ runner: "tap", passed: by("pass").length, failed: by("fail").length, skipped: by("skip").length, total: leaves.length });
        const names = [...new Set(by("fail").map((l) => l.name))].slice(0, 10);
        expect(got.failedNames ?? []).toEqual(names);
      }),
    );
  });
});

describe("TAP edge cases", () => {
  it("a bail-out fails the run and is named; planned tests that never reported count as failed", () => {
    expect(parseTestCounts("TAP version 13\nok 1 - a\nBail out! database unreachable\n", "tap")).toEqual({
      runner: "tap", passed: 1, failed: 1, skipped: 0, total: 2, failedNames: ["Bail out! database unreachable"],
    });
    expect(parseTestCounts("TAP version 13\n1..5\nok 1 - a\nBail out!\n", "tap")).toMatchObject({ passed: 1, failed: 4, total: 5 });
    expect(parseTestCounts("1..3\nok 1 - a\nnot ok 2 - b\n", "tap")).toMatchObject({ passed: 1, failed: 2, total: 3, failedNames: ["b"] });
  });

  it("directives: any case and spelling starting SKIP/TODO, an escaped \\# is part of the name", () => {
    const text = ["1..5", "ok 1 - a # skip", "ok 2 - b # Skipped: no db", "not ok 3 - c # todo", "not ok 4 - handles \\# SKIP in names", "ok 5 - e # time=3ms"].join("\n");
    expect(parseTestCounts(text, "tap")).toEqual({ runner: "tap", passed: 1, failed: 1, skipped: 2, total: 5, failedNames: ["handles \\# SKIP in names"] });
  });

  it("a failing parent none of whose subtests failed (a failed hook) counts as one failure", () => {
    const text = ["TAP version 14", "# Subtest: suite", "    ok 1 - a", "    1..1", "not ok 1 - suite", "1..1"].join("\n");
    expect(parseTestCounts(text, "tap")).toMatchObject({ passed: 1, failed: 1, total: 2, failedNames: ["suite"] });
  });

  it("text that only looks like TAP (no plan, no version) is not read as TAP", () => {
    expect(parseTestCounts("ok\nnot ok 1 - nothing\nall good\n", "tap")).toBeNull();
    expect(parseTestCounts("Bail out! early\n", "tap")).toBeNull();
  });
});

describe("the XML reader behind JUnit reports", () => {
  it("reads attributes in any order and either quote, entities, CDATA and comments that hold markup", () => {
    const xml = `\uFEFF<?xml version='1.0'?>\n<!DOCTYPE testsuites>\n<!-- <testcase name="not me"/> -->\n<testsuites>
      <testsuite name='s' tests='3'>
        <testcase time="1" name="a &amp; b &#x3C;c&#62;" classname='k'><failure><![CDATA[<testcase name="nor me"/> ]]></failure></testcase>
        <testcase classname="k" name="e"><skipped message="x &gt; y"/></testcase>
        <testcase
           name="multi-line"
           classname="k"/>
      </testsuite></testsuites>`;
    expect(parseJunit(xml)).toEqual({ runner: "junit", passed: 1, failed: 1, skipped: 1, total: 3, failedNames: ["a & b <c> (k)"] });
  });

  it("a lone <testsuite> root, <error> as failure, retries that passed are not failures, a bare & is kept", () => {
    const xml = `<testsuite><testcase name="x &amp y"><error/></testcase><testcase name="r"><flakyFailure/></testcase></testsuite>`;
    expect(parseJunit(xml)).toEqual({ runner: "junit", passed: 1, failed: 1, skipped: 0, total: 2, failedNames: ["x &amp y"] });
  });

  it.each([
    ["<testsuites><testsuite></testsuites>", "closes <testsuite>"],
    ["<testsuites><testcase name='a'>", "never closed"],
    ["<testsuites/><testsuites/>", "a second root element"],
    ["<testsuites a='1' a='2'/>", "given twice"],
    ["<testsuites><testcase name=unquoted/></testsuites>", "malformed markup"],
    ["junk <testsuites/>", "text outside the root element"],
  ])("refuses %s (%s)", (xml, why) => {
    expect(() => parseXml(xml)).toThrow(why);
  });

  it("never throws anything but an Error, and failing names stay within 10 × 200 characters (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 300 }), { maxLength: 30 }), (names) => {
        const cases = names.map((n) => `<testcase name="${n.replace(/[<&"]/g, "")}"><failure/></testcase>`).join("");
        const got = parseJunit(`<testsuites>${cases}</testsuites>`);
        expect(got.failed).toBe(names.length);
        expect((got.failedNames ?? []).length).toBeLessThanOrEqual(10);
        for (const n of got.failedNames ?? []) expect(n.length).toBeLessThanOrEqual(200);
      }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        parseXml(text);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
      }
    }));
  });
});

describe("GateConfig `junit`", () => {
  it("names a report file; `tests` may be left out or be junit, but not another runner", () => {
    expect(GateConfig.parse({ run: ["npx", "vitest", "run"], junit: "reports/junit.xml" })).toMatchObject({ junit: "reports/junit.xml" });
    expect(GateConfig.safeParse({ run: ["x"], junit: "r.xml", tests: "junit" }).success).toBe(true);
    const wrong = GateConfig.safeParse({ run: ["x"], junit: "r.xml", tests: "vitest" });
    expect(wrong.error?.issues[0]?.message).toContain("reads its counts from that file");
    // tests: junit without a file reads JUnit XML the command prints on stdout.
    expect(GateConfig.safeParse({ run: ["x"], tests: "junit" }).success).toBe(true);
  });
});
