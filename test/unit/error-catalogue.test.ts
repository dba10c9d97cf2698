// The wire error catalogue (shared/protocol/errors.ts): one code per name and one name per code, the table in
// docs/protocol.md lists exactly its entries, and no code is written out by hand anywhere else in services/
// or shared/ (every error is built with wireError or takes its code from the catalogue).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { errorNameOf, WIRE_ERRORS, wireError } from "../../shared/protocol/index.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith(".ts") ? [join(dir, n)] : []));

describe("the wire error catalogue", () => {
  it("pairs each name with one code and each code with one name", () => {
    const codes = Object.values(WIRE_ERRORS).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, e] of Object.entries(WIRE_ERRORS)) expect(errorNameOf(e.code)).toBe(name);
    expect(errorNameOf("NOPE")).toBeUndefined();
    expect(wireError("Deadline", "late", { s: 5 })).toEqual({ name: "Deadline", code: "DEADLINE", message: "late", details: { s: 5 } });
  });

  it("is the table in docs/protocol.md, row for row", () => {
    const doc = readFileSync(join(ROOT, "docs/protocol.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Error codes"), doc.indexOf("## Message ids"));
    const rows = [...section.matchAll(/^\| `(\w+)` \| `(\w+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toEqual(Object.entries(WIRE_ERRORS).map(([name, e]) => [name, e.code, e.meaning]));
  });

  it("is the only place in services/ and shared/ where a wire code is written out", () => {
    const codes = new Set<string>(Object.values(WIRE_ERRORS).map((e) => e.code));
    const found: string[] = [];
    for (const file of [...files(join(ROOT, "services")), ...files(join(ROOT, "shared"))]) {
      if (file.endsWith(join("shared", "protocol", "errors.ts"))) continue;
      // `code: "X"` (building an error) and `code === "X"` (branching on one)
      for (const m of readFileSync(file, "utf8").matchAll(/code(?::|\s*[!=]==?)\s*["'`]([A-Z_]+)["'`]/g)) if (codes.has(m[1]!)) found.push(`${file.slice(ROOT.length)}: ${m[1]}`);
    }
    expect(found).toEqual([]);
  });
});
