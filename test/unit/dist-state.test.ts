// The freshness rule of dist/ (bin/dist-state.mjs): an installed copy whose files got new mtimes still runs dist/,
// an edit does not.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { contentHash, distState } from "../../bin/build.mjs";

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach((root) => rmSync(root, { recursive: true, force: true })));

/** A root with one source file and a stamp taken of it, as bin/build.mjs writes it. */
function builtRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "baton-dist-"));
  roots.push(root);
  mkdirSync(join(root, "shared"));
  mkdirSync(join(root, "dist"));
  const file = join(root, "shared", "a.ts");
  writeFileSync(file, "export const a = 1;\n");
  const stat = statSync(file);
  const sources = [["shared/a.ts", stat.size, stat.mtimeMs, contentHash(readFileSync(file))]];
  writeFileSync(join(root, "dist", ".build-stamp.json"), JSON.stringify({ sources }));
  return root;
}

describe("distState", () => {
  it("is fresh for the sources it was built from", () => {
    expect(distState(builtRoot())).toEqual({ fresh: true });
  });

  it("stays fresh when only the mtimes changed (npm install of a packed tarball)", () => {
    const root = builtRoot();
    utimesSync(join(root, "shared", "a.ts"), new Date(2030, 0, 1), new Date(2030, 0, 1));
    expect(distState(root)).toEqual({ fresh: true });
  });

  it("is stale after an edit that keeps the size", () => {
    const root = builtRoot();
    writeFileSync(join(root, "shared", "a.ts"), "export const a = 2;\n");
    expect(distState(root)).toEqual({ fresh: false, reason: "shared/a.ts changed since dist/ was built" });
  });

  it("is stale for a stamp without hashes when the mtime changed (a stamp from before hashes)", () => {
    const root = builtRoot();
    const stampFile = join(root, "dist", ".build-stamp.json");
    const stamp = JSON.parse(readFileSync(stampFile, "utf8")) as { sources: unknown[][] };
    writeFileSync(stampFile, JSON.stringify({ sources: stamp.sources.map((entry) => entry.slice(0, 3)) }));
    utimesSync(join(root, "shared", "a.ts"), new Date(2030, 0, 1), new Date(2030, 0, 1));
    expect(distState(root).fresh).toBe(false);
  });
});
