// The scripted model server's Anthropic Messages dialect, read by the official @anthropic-ai/sdk: streamed and plain
// answers with tool_use, turns counted from the conversation, usage, API errors with retry-after, and Claude Code's
// side requests (token counts, its title call) answered without taking a turn.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";

const server = new ModelServer({
  dialects: ALL_DIALECTS,
  scripts: [
    Script.parse({
      match: "write add",
      turns: [
        { text: "Writing it.", tools: [{ name: "Write", input: { file_path: "src/add.js", content: "x" } }], usage: { input: 100, output: 20, cacheRead: 30 } },
        { text: "Done: added src/add.js." },
      ],
    }),
    Script.parse({ match: "rate limited", turns: [{ error: { status: 429, message: "slow down", retryAfterSeconds: 7 } }] }),
    Script.parse({ match: "structured", turns: [{ json: { answer: 42 } }] }),
  ],
});
let client: Anthropic;
beforeAll(async () => {
  const url = await server.start();
  client = new Anthropic({ baseURL: url, apiKey: "test-key", maxRetries: 0 });
});
afterAll(() => server.close());

const TOOLS = [{ name: "Write", description: "write a file", input_schema: { type: "object" as const, properties: {} } }];

describe("scripted model server: Anthropic Messages", () => {
  it("streams a turn with text and a tool_use block the SDK assembles, with the scripted usage", async () => {
    const stream = client.messages.stream({ model: "claude-test", max_tokens: 100, tools: TOOLS, messages: [{ role: "user", content: "please write add" }] });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toMatchObject([
      { type: "text", text: "Writing it." },
      { type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "Write", input: { file_path: "src/add.js", content: "x" } },
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 30 });
  });

  it("counts turns from the assistant messages of the conversation, and answers plain JSON when not streaming", async () => {
    const message = await client.messages.create({
      model: "claude-test", max_tokens: 100, tools: TOOLS,
      messages: [
        { role: "user", content: "please write add" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Write", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "ok" }] },
      ],
    });
    expect(message).toMatchObject({ type: "message", role: "assistant", stop_reason: "end_turn", content: [{ type: "text", text: "Done: added src/add.js." }] });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
  });

  it("sends a JSON answer as text", async () => {
    const message = await client.messages.create({ model: "claude-test", max_tokens: 100, messages: [{ role: "user", content: "structured please" }] });
    expect(message.content[0]).toMatchObject({ type: "text", text: '{"answer":42}' });
  });

  it("answers a scripted error in Anthropic's shape, with retry-after", async () => {
    const err = await client.messages.create({ model: "claude-test", max_tokens: 100, messages: [{ role: "user", content: "rate limited" }] }).catch((caught: unknown) => caught);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const apiError = err as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(429);
    expect(apiError.headers?.get("retry-after")).toBe("7");
    expect(apiError.error).toMatchObject({ type: "error", error: { type: "rate_limit_error", message: "slow down" } });
  });

  it("answers Claude Code's side requests without taking a turn: token counts and its tool-less title call", async () => {
    const before = server.exchanges.length;
    const counted = await client.messages.countTokens({ model: "claude-test", messages: [{ role: "user", content: "please write add" }] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const title = await client.messages.create({
      model: "claude-test", max_tokens: 100, system: [{ type: "text", text: "x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=sdk-cli;" }, { type: "text", text: "Generate a concise title" }],
      messages: [{ role: "user", content: "<session>please write add</session>" }],
    });
    expect(title.content[0]).toMatchObject({ type: "text" });
    const side = server.exchanges.slice(before);
    expect(side.map((exchange) => exchange.turnIndex)).toEqual([undefined, undefined]);
    // the conversation itself still starts at its first turn
    const first = await client.messages.create({ model: "claude-test", max_tokens: 100, tools: TOOLS, messages: [{ role: "user", content: "please write add" }] });
    expect(first.stop_reason).toBe("tool_use");
  });
});
