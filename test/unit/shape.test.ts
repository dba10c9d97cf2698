// The size rules for services/ and shared/ (scripts/shape.ts): files of at most 300 lines, functions of at most
// 80, unless SHAPE_EXCEPTIONS gives a reason. Also checks the scanner itself on a known-long function.
import { describe, expect, it } from "vitest";
import { findings, longFunctions } from "../../scripts/shape.ts";

describe("the shape of services/ and shared/", () => {
  it("finds a long function, with its name and length, and skips braces in strings and comments", () => {
    const body = Array.from({ length: 85 }, (_, i) => `  const x${i} = "}" + \`{\`; // }`).join("\n");
    const text = `export async function handleTask(m: Msg): Promise<void> {\n${body}\n}\nconst short = () => {\n  return 1;\n};\n`;
    expect(longFunctions("x.ts", text)).toEqual([{ file: "x.ts", name: "handleTask", lines: 87, line: 1 }]);
  });

  it("has no file over 300 lines and no function over 80 without a written reason", () => {
    expect(findings()).toEqual([]);
  });
});
