// The worker configs the README's "Use a coding agent for a role" section shows are valid config files, and each
// names the agent it is about: a reader who copies one gets a config Baton accepts.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ConfigFile } from "../../shared/config.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const rest = README.slice(start + heading.length + 2);
  return rest.slice(0, rest.search(/^## /m));
}

const blocks = [...section("## Use a coding agent for a role").matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);

describe("README: Use a coding agent for a role", () => {
  it("shows a config for Claude Code, Codex and a local model through llm", () => {
    const agents = blocks.map((yaml) => Object.values(ConfigFile.parse(parseYaml(yaml)).roles).map((role) => role.agent));
    expect(agents.flat()).toEqual(["claude-code", "codex", "llm"]);
  });

  it.each(blocks.map((yaml, index) => [index + 1, yaml] as const))("config %i is valid", (_index, yaml) => {
    const parsed = ConfigFile.safeParse(parseYaml(yaml));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });
});
