// The AsyncAPI document in docs/schemas: up to date with the zod schemas, valid for @asyncapi/parser, and complete —
// every subject shared/subjects.ts builds has a channel, every status event kind a message.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface } from "@asyncapi/parser";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ASYNCAPI_FILE, asyncApiYaml, generateAsyncApi, generateSchemas, SCHEMA_DIR } from "../../scripts/gen-schemas.ts";
import { StatusEvent } from "../../shared/protocol/index.ts";
import { names } from "../../shared/subjects.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const committed = (file: string) => readFileSync(join(SCHEMA_DIR, file), "utf8");
const KINDS = StatusEvent.options.map((option) => option.shape.kind.value);
const SAMPLE_TOKEN = "[A-Za-z0-9_-]+";

type Json = Record<string, unknown>;

/** Problems of error or warning severity the parser reports (infos and hints, e.g. "3.1.0 exists", are left out). */
async function problems(text: string): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(text);
  return diagnostics
    .filter((diagnostic) => diagnostic.severity <= DiagnosticSeverity.Warning)
    .map((diagnostic) => `${diagnostic.code}: ${diagnostic.message} at ${diagnostic.path.join("/")}`);
}

/** A regular expression matching the subjects of a channel address (`{prefix}` = baton; `{kind}` spans tokens). */
function addressPattern(address: string): RegExp {
  const escaped = address.replace(/[.$]/g, (char) => `\\${char}`);
  const body = escaped.replace(/\{(\w+)\}/g, (_match, name: string) =>
    name === "prefix" ? "baton" : name === "kind" ? `${SAMPLE_TOKEN}(?:\\.${SAMPLE_TOKEN})*` : SAMPLE_TOKEN);
  return new RegExp(`^${body}$`);
}

/** Concrete subjects a subject (maybe with `*` or `>`) stands for: `>` as one, two or three tokens. */
function instances(subject: string): string[] {
  const single = subject.split(".").map((token) => (token === "*" ? "w" : token)).join(".");
  return single.endsWith(".>") ? ["w", "w.w", "w.w.w"].map((tail) => single.slice(0, -1) + tail) : [single];
}

let document: AsyncAPIDocumentInterface;
const doc = JSON.parse(committed(ASYNCAPI_FILE)) as Json;

beforeAll(async () => {
  const parsed = await new Parser().parse(committed(ASYNCAPI_FILE));
  if (!parsed.document) throw new Error(`the parser rejected ${ASYNCAPI_FILE}: ${JSON.stringify(parsed.diagnostics.slice(0, 5))}`);
  document = parsed.document;
}, 60_000);

describe("docs/schemas/asyncapi.json", () => {
  it("is up to date, and asyncapi.yaml holds the same document (run `npm run schemas` after changing a zod schema)", () => {
    expect(committed(ASYNCAPI_FILE)).toBe(generateSchemas().get(ASYNCAPI_FILE));
    const yaml = committed("asyncapi.yaml");
    expect(yaml).toBe(asyncApiYaml(generateAsyncApi()));
    expect(parseYaml(yaml)).toEqual(doc);
  });

  it("is an AsyncAPI 3.0.0 document with no errors or warnings", async () => {
    expect(doc.asyncapi).toBe("3.0.0");
    expect((doc.info as Json).version).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    expect(await problems(committed(ASYNCAPI_FILE))).toEqual([]);
  }, 60_000);

  it("would be rejected when broken: a channel naming a missing message, a payload schema of an unknown type", async () => {
    const missing = structuredClone(doc) as { components: { messages: Json } };
    delete missing.components.messages.taskAssigned;
    expect((await problems(JSON.stringify(missing))).length).toBeGreaterThan(0);
    const badType = structuredClone(doc) as { components: { schemas: Record<string, Json> } };
    badType.components.schemas.TaskResult!.type = "objekt";
    expect((await problems(JSON.stringify(badType))).join("\n")).toContain("TaskResult");
  }, 60_000);

  it("has one message per status event kind on the status channel, each with a payload of that kind only", () => {
    const status = document.channels().get("status");
    expect(status?.address()).toBe("{prefix}.status.{featureId}.{kind}");
    const messages = status!.messages().all();
    expect(messages.map((message) => message.name()).sort()).toEqual([...KINDS].sort());
    for (const message of messages) {
      const payload = message.payload()!.json() as { properties: { kind: { const: string } }; required: string[] };
      expect(payload.properties.kind.const, message.name()).toBe(message.name());
      expect(payload.required).toContain("kind");
    }
    expect(status!.parameters().get("kind")?.schema()?.enum()?.slice().sort()).toEqual([...KINDS].sort());
  });

  it("has a channel for every subject shared/subjects.ts builds (wildcard subscriptions cover one)", () => {
    const patterns = document.channels().all().flatMap((channel) => {
      const address = channel.address();
      return address ? [{ id: channel.id(), pattern: addressPattern(address) }] : [];
    });
    const built = Object.entries(names("baton")).filter(([key, value]) => typeof value === "function" && !key.startsWith("parse"));
    expect(built.length).toBeGreaterThanOrEqual(16);
    for (const [key, builder] of built) {
      const subject = (builder as (...args: string[]) => string)("a1", "a2", "a3");
      const covered = instances(subject).some((instance) => patterns.some(({ pattern }) => pattern.test(instance)));
      expect(covered, `names().${key}() → ${subject} matches no channel address`).toBe(true);
    }
    // The parser does not check this: each `{name}` in an address is a declared parameter, and each parameter is used.
    for (const channel of document.channels().all()) {
      const used = [...(channel.address() ?? "").matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      expect(channel.parameters().all().map((parameter) => parameter.id()).sort(), channel.id()).toEqual(used);
      for (const parameter of channel.parameters().all()) expect(parameter.description(), parameter.id()).toBeTruthy();
    }
    const { buckets } = names("baton");
    expect(patterns.some(({ pattern }) => pattern.test(`$KV.${buckets.workers}.qa.qa-host1-42`))).toBe(true);
    expect(patterns.some(({ pattern }) => pattern.test(`$KV.${buckets.coordinators}.coord-1`))).toBe(true);
  });

  it("answers every request operation on a reply channel, and sends what clients send", () => {
    const operations = document.operations();
    for (const id of ["requestSubmit", "getFeature", "listFeatures"]) {
      const operation = operations.get(id)!;
      expect(operation.isSend(), id).toBe(true);
      expect(operation.reply()?.messages().length, id).toBe(1);
    }
    expect(operations.get("submitFeature")?.isSend()).toBe(true);
    expect(operations.get("controlFeature")?.isSend()).toBe(true);
    expect(operations.get("followStatus")?.messages().length).toBe(KINDS.length);
    expect(operations.get("receiveTask")?.isReceive()).toBe(true);
  });
});

describe("the AsyncAPI payloads accept what Baton accepts", () => {
  const protocol = readFileSync(join(ROOT, "docs/protocol.md"), "utf8");
  const examples = [...protocol.matchAll(/<!-- validate: (\w+) -->\n```json\n([\s\S]*?)```/g)]
    .map((match) => ({ name: match[1]!, value: JSON.parse(match[2]!) as Json }))
    .filter((example) => example.name !== "ExecutorOutput"); // a file, not a NATS message
  let check: (schema: Json, value: unknown) => string[];

  beforeAll(async () => {
    const { Ajv } = await import("ajv");
    const { default: formatsModule } = await import("ajv-formats");
    const ajv = formatsModule.default(new Ajv({ strict: false, allErrors: true }));
    check = (schema, value) => {
      const validate = ajv.compile(schema);
      return validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
    };
  });

  /** The payload schema of the message an example is, found by message name (status events: by their kind). */
  function payloadFor(example: { name: string; value: Json }): Json {
    const name = example.name === "StatusEvent" ? String(example.value.kind) : example.name;
    const message = document.messages().all().find((candidate) => candidate.name() === name);
    if (!message) throw new Error(`no message named ${name}`);
    return message.payload()!.json() as Json;
  }

  it("has protocol examples to check, of every message kind on NATS", () => {
    expect(examples.length).toBeGreaterThan(10);
    expect(new Set(examples.map((example) => example.name)).size).toBeGreaterThanOrEqual(13);
  });

  it("validates each example of docs/protocol.md against its message's payload (draft-07, as AsyncAPI tools read it)", () => {
    for (const example of examples) expect(check(payloadFor(example), example.value), example.name).toEqual([]);
  });

  it("rejects a status event under another kind's message, and a control message with an unknown verb", () => {
    const event = examples.find((example) => example.name === "StatusEvent")!;
    const other = KINDS.find((kind) => kind !== event.value.kind)!;
    expect(check(payloadFor({ name: "StatusEvent", value: { kind: other } }), event.value).length).toBeGreaterThan(0);
    const control = examples.find((example) => example.name === "ControlMessage")!;
    expect(check(payloadFor(control), { ...control.value, verb: "explode" }).length).toBeGreaterThan(0);
  });
});
