// Artifact validation (services/worker/workspace/artifacts.ts): declared files must exist and parse; OpenAPI and JSON
// Schema files must validate, with messages that say where; nothing is ever fetched from the network.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactProblem } from "../../shared/protocol/workspace.ts";
import { validateArtifacts } from "../../services/worker/workspace/artifacts.ts";

/** A `read` over in-memory files (what a worktree or git's index would hold). */
const files = (contents: Record<string, string | Buffer>) => async (path: string): Promise<Buffer | undefined> => {
  const content = contents[path];
  return content === undefined ? undefined : Buffer.from(content);
};

/** Validates one file and returns its messages ([] when fine). */
async function check(path: string, content: string | undefined, others: Record<string, string> = {}): Promise<string[]> {
  const all = content === undefined ? others : { ...others, [path]: content };
  const problems = await validateArtifacts([path], files(all));
  for (const problem of problems) ArtifactProblem.parse(problem);
  return problems.flatMap((problem) => problem.messages);
}

const info = { title: "Pets", version: "1.0.0" };
const petstore30 = {
  openapi: "3.0.3", info,
  paths: {
    "/pets": {
      get: {
        parameters: [{ name: "limit", in: "query", schema: { type: "integer", format: "int32" } }],
        responses: { "200": { description: "pets", content: { "application/json": { schema: { type: "array", items: { $ref: "#/components/schemas/Pet" } } } } } },
      },
    },
  },
  components: { schemas: { Pet: { type: "object", required: ["id"], properties: { id: { type: "integer" }, tag: { type: "string", nullable: true } } } } },
};
const yaml31 = `openapi: 3.1.0
info:
  title: Users
  version: "2"
paths:
  /users:
    get:
      responses:
        "200":
          description: the users
          content:
            application/json:
              schema:
                type: array
                items: { $ref: "#/components/schemas/User" }
components:
  schemas:
    User:
      type: [object, "null"]
      properties:
        name: { type: string }
`;

describe("validateArtifacts: OpenAPI", () => {
  it("accepts a valid 3.0 description (JSON) and a valid 3.1 description (YAML)", async () => {
    expect(await check("docs/openapi.json", JSON.stringify(petstore30, null, 2))).toEqual([]);
    expect(await check("docs/openapi.yaml", yaml31)).toEqual([]);
  });

  it("says `info` is missing, at the top level", async () => {
    const messages = await check("docs/api.json", JSON.stringify({ openapi: "3.1.0", paths: {} }));
    expect(messages).toEqual(["(top level): must have required property 'info'"]);
  });

  it("names the response object that lacks its description", async () => {
    const bad = { openapi: "3.0.3", info, paths: { "/users": { get: { responses: { "200": { content: {} } } } } } };
    const messages = await check("docs/openapi.json", JSON.stringify(bad));
    expect(messages).toEqual(["paths./users.get.responses.200: must have required property 'description'"]);
  });

  it("names an unknown field and a wrong enum value, listing the allowed values once", async () => {
    const bad = { openapi: "3.0.3", info, paths: { "/u": { get: { parameters: [{ name: "q", in: "querry", schema: { type: "string" } }], responses: { "200": { description: "ok" } }, extra: 1 } } } };
    const messages = await check("docs/openapi.json", JSON.stringify(bad));
    expect(messages).toContain("paths./u.get: must NOT have additional properties ('extra')");
    expect(messages).toContain('paths./u.get.parameters.0.in: must be equal to one of the allowed values: "path", "query", "header", "cookie"');
  });

  it("checks 3.1 Schema Objects as JSON Schema and names them", async () => {
    const messages = await check("api/openapi.yaml", yaml31.replace("name: { type: string }", "name: { type: 12 }"));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^components\.schemas\.User\.properties\.name\.type: must be equal to one of the allowed values/);
  });

  it("names the place of a $ref that leads nowhere", async () => {
    const messages = await check("openapi.yaml", yaml31.replace("#/components/schemas/User", "#/components/schemas/Nobody"));
    expect(messages).toEqual([expect.stringMatching(/^paths\.\/users\.get\.responses\.200\.content\.application\/json\.schema\.items: \$ref "#\/components\/schemas\/Nobody" points at nothing/)]);
  });

  it("refuses Swagger 2, and a file named openapi without an `openapi` field", async () => {
    const swagger = { swagger: "2.0", info, paths: {} };
    expect(await check("docs/api.json", JSON.stringify(swagger))).toEqual([expect.stringContaining("Swagger 2 is not OpenAPI 3; convert it")]);
    expect(await check("docs/openapi.yaml", "title: not an api\n")).toEqual([expect.stringContaining("has no `openapi` field")]);
    expect(await check("docs/openapi.yaml", "openapi: 2.5.0\ninfo: {}\n")).toEqual([expect.stringMatching(/^openapi: .*not an OpenAPI 3 version/)]);
  });

  it("reads $refs to other workspace files relative to the description, and reports their problems", async () => {
    const main = yaml31.replace('"#/components/schemas/User"', '"./schemas/user.yaml#/User"');
    const user = "User:\n  type: object\n  properties:\n    name: { type: string }\n";
    expect(await check("docs/openapi.yaml", main, { "docs/schemas/user.yaml": user })).toEqual([]);
    expect(await check("docs/openapi.yaml", main)).toEqual([expect.stringMatching(/^paths\..*schema\.items: \$ref "\.\/schemas\/user\.yaml#\/User": docs\/schemas\/user\.yaml is missing/)]);
    expect(await check("docs/openapi.yaml", main.replace("./schemas", "../../outside"))).toEqual([expect.stringContaining("points outside the workspace")]);
  });

  it("keeps messages within the wire's bounds when there are very many problems", async () => {
    const paths = Object.fromEntries(Array.from({ length: 80 }, (_, index) => [`/p${index}`, { get: { responses: { "200": {} } } }]));
    const [problem] = await validateArtifacts(["openapi.json"], files({ "openapi.json": JSON.stringify({ openapi: "3.0.3", info, paths }) }));
    expect(() => ArtifactProblem.parse(problem)).not.toThrow();
    expect(problem!.messages).toHaveLength(50);
    expect(problem!.messages.at(-1)).toBe("… and 31 more");
  });
});

describe("validateArtifacts: never fetches", () => {
  let server: Server;
  let requests = 0;
  let base = "";
  beforeAll(async () => {
    server = createServer((_request, response) => (requests++, response.end("{}")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("leaves URL $refs in OpenAPI and JSON Schema unfetched and unreported", async () => {
    const api = yaml31.replace('"#/components/schemas/User"', `"${base}/schemas.yaml#/User"`).replace("paths:\n", `paths:\n  /remote:\n    $ref: "${base}/paths.yaml#/~1remote"\n`);
    expect(await check("docs/openapi.yaml", api)).toEqual([]);
    const schema = { $schema: "https://json-schema.org/draft/2020-12/schema", properties: { a: { $ref: `${base}/a.json` } } };
    expect(await check("schemas/thing.schema.json", JSON.stringify(schema))).toEqual([]);
    expect(requests).toBe(0);
  });
});

describe("validateArtifacts: JSON Schema", () => {
  it("accepts valid schemas of each dialect", async () => {
    for (const dialect of ["https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2019-09/schema", "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-06/schema#", "http://json-schema.org/draft-04/schema#"]) {
      const schema = { $schema: dialect, type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^[a-z]+$" } } };
      expect(await check("schemas/item.json", JSON.stringify(schema)), dialect).toEqual([]);
    }
  });

  it("names the keyword that breaks the meta-schema", async () => {
    const messages = await check("schemas/item.schema.json", JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", properties: { id: { type: 12 } } }));
    expect(messages).toEqual([expect.stringMatching(/^properties\.id\.type: must be equal to one of the allowed values: "array", "boolean"/)]);
  });

  it("checks a .schema.json without $schema as 2020-12 and says so", async () => {
    const messages = await check("item.schema.json", JSON.stringify({ type: "object", minProperties: -1 }));
    expect(messages).toEqual(["minProperties: must be >= 0 (no $schema: checked as JSON Schema 2020-12)"]);
  });

  it("reports an unknown $schema, a local $ref that leads nowhere and a bad pattern", async () => {
    expect(await check("a.schema.json", JSON.stringify({ $schema: "https://example.com/meta" }))).toEqual([expect.stringContaining('unknown $schema "https://example.com/meta"')]);
    expect(await check("b.yaml", "$schema: https://json-schema.org/draft-03/schema#\n")).toEqual([expect.stringContaining("unknown $schema")]);
    expect(await check("c.schema.json", JSON.stringify({ $ref: "#/$defs/nothing" }))).toEqual([expect.stringContaining("can't resolve reference #/$defs/nothing")]);
    expect(await check("d.schema.json", JSON.stringify({ pattern: "[" }))).toEqual([expect.stringContaining("Invalid regular expression")]);
  });
});

describe("validateArtifacts: presence and syntax", () => {
  it("reports a missing file, an empty file and a blank one; accepts Markdown", async () => {
    expect(await check("docs/database/README.md", undefined)).toEqual(["missing: the task declares it produces this file, but it is not there"]);
    expect(await check("docs/notes.md", "")).toEqual([expect.stringMatching(/^empty/)]);
    expect(await check("docs/notes.md", " \n\t\n")).toEqual([expect.stringMatching(/^empty/)]);
    expect(await check("docs/database/README.md", "# Database\n\nTables: users, pets.\n")).toEqual([]);
  });

  it("reports YAML and JSON syntax errors with their line", async () => {
    const yaml = await check("config/app.yaml", "name: app\nitems: [a, b\nother: 1\n");
    expect(yaml).toEqual([expect.stringMatching(/^not valid YAML: .*at line \d+, column \d+/)]);
    const json = await check("data/seed.json", '{\n  "a": 1,\n  b: 2\n}');
    expect(json).toEqual([expect.stringMatching(/^not valid JSON: .*line 3/)]);
  });

  it("accepts plain JSON and multi-document YAML that are neither OpenAPI nor JSON Schema", async () => {
    expect(await check("data/seed.json", '{"users": []}')).toEqual([]);
    expect(await check("k8s/deploy.yaml", "kind: A\n---\nkind: B\n")).toEqual([]);
  });

  it("turns a file over 5 MiB and a failing read into problems, without throwing, one problem per file", async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 1, 0x20);
    const read = async (path: string): Promise<Buffer | undefined> => {
      if (path === "big.json") return big;
      if (path === "broken.md") throw new Error("disk on fire");
      return Buffer.from("fine");
    };
    const problems = await validateArtifacts(["big.json", "broken.md", "ok.md", "big.json"], read);
    expect(problems.map((problem) => problem.path)).toEqual(["big.json", "broken.md"]);
    expect(problems[0]!.messages[0]).toMatch(/^too large to validate/);
    expect(problems[1]!.messages[0]).toContain("disk on fire");
  });
});
