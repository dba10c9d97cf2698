// The scripted model server's Gemini dialect over HTTP, in the shapes Gemini CLI sends and reads (recorded from
// Gemini CLI 0.61): streamed turns with function calls, turns counted from the conversation, side requests, errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { modestValue } from "../../services/model-server/gemini.ts";
import { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";

/** The parts of a GenerateContentResponse these tests read. */
type GeminiBody = { candidates: { content: { role?: string; parts: { text?: string }[] } }[]; usageMetadata: { promptTokenCount: number } };

const server = new ModelServer({
  dialects: ALL_DIALECTS,
  scripts: [
    Script.parse({
      match: "write add",
      turns: [
        { text: "Writing it.", tools: [{ name: "write_file", input: { file_path: "src/add.js", content: "x" } }], usage: { input: 100, output: 20, cacheRead: 30 } },
        { text: "Done: added src/add.js." },
      ],
    }),
    Script.parse({ match: "rate limited", turns: [{ error: { status: 429, message: "Resource has been exhausted", retryAfterSeconds: 7 } }] }),
  ],
});
let url = "";
beforeAll(async () => {
  url = await server.start();
});
afterAll(() => server.close());

const SESSION_CONTEXT = { text: "<session_context>\nThis is the Gemini CLI.\n</session_context>" };
const user = (text: string) => ({ role: "user", parts: [SESSION_CONTEXT, { text }] });

async function post(path: string, body: unknown) {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-goog-api-key": "k" }, body: JSON.stringify(body) });
}

/** The JSON chunks of an SSE answer. */
async function chunks(res: Response): Promise<any[]> {
  const text = await res.text();
  return text.split("\n\n").filter((block) => block.startsWith("data: ")).map((block) => JSON.parse(block.slice(6)));
}

describe("the scripted model server, Gemini dialect", () => {
  it("streams a turn as GenerateContentResponse chunks: text, function calls, finish reason, usage", async () => {
    const res = await post("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", { contents: [user("Please write add")], tools: [] });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const got = await chunks(res);
    const parts = got.flatMap((chunk) => chunk.candidates[0].content.parts);
    expect(parts).toEqual([{ text: "Writing it." }, { functionCall: { name: "write_file", args: { file_path: "src/add.js", content: "x" } } }]);
    const last = got.at(-1);
    expect(last.candidates[0].finishReason).toBe("STOP");
    expect(last.modelVersion).toBe("gemini-2.5-pro");
    expect(last.usageMetadata).toEqual({ promptTokenCount: 130, candidatesTokenCount: 20, totalTokenCount: 150, cachedContentTokenCount: 30 });
  });

  it("plays the turn given by the model contents already in the conversation; :generateContent answers in one body", async () => {
    const contents = [user("Please write add"), { role: "model", parts: [{ functionCall: { name: "write_file", args: {} } }] }, { role: "user", parts: [{ functionResponse: { name: "write_file", response: { output: "ok" } } }] }];
    const res = await post("/v1beta/models/gemini-2.5-pro:generateContent", { contents });
    const body = (await res.json()) as GeminiBody;
    expect(body.candidates[0]!.content).toEqual({ role: "model", parts: [{ text: "Done: added src/add.js." }] });
    expect(body.usageMetadata.promptTokenCount).toBeGreaterThan(0);
    expect(server.exchanges.at(-1)).toMatchObject({ dialect: "gemini", scriptIndex: 0, turnIndex: 1, status: 200 });
  });

  it("answers token counts and the CLI's JSON utility calls beside the conversation, with values its checks accept", async () => {
    const before = server.exchanges.length;
    const count = (await (await post("/v1beta/models/gemini-2.5-pro:countTokens", { contents: [user("x")] })).json()) as { totalTokens: number };
    expect(count.totalTokens).toBeGreaterThan(0);
    const schema = { type: "object", properties: { reasoning: { type: "string" }, next_speaker: { type: "string", enum: ["user", "model"] } }, required: ["reasoning", "next_speaker"] };
    const res = await post("/v1beta/models/gemini-3.5-flash-lite:generateContent", { contents: [user("Please write add")], generationConfig: { responseMimeType: "application/json", responseJsonSchema: schema } });
    const body = (await res.json()) as GeminiBody;
    expect(JSON.parse(body.candidates[0]!.content.parts[0]!.text!)).toEqual({ reasoning: "", next_speaker: "user" });
    expect(server.exchanges.slice(before).map((exchange) => exchange.turnIndex)).toEqual([undefined, undefined]);
    expect(modestValue({ type: "OBJECT", properties: { complexity_score: { type: "INTEGER" }, confidence: { type: "NUMBER" } } })).toEqual({ complexity_score: 1, confidence: 0 });
  });

  it("answers errors in Google's shape, with retry-after when the script gives one", async () => {
    const res = await post("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", { contents: [user("rate limited")] });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toEqual({ error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } });
    const bad = await post("/v1beta/models/gemini-2.5-pro:streamGenerateContent", { contents: "nope" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: unknown }).error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
  });
});
