// A fix round whose session lives in a config home that another run holds: the real Claude Code CLI, run by a real
// `baton worker` (two tasks at once) against the scripted model server, continues the session from a copy in a free
// home — the model sees the earlier conversation — instead of starting fresh.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import { processesWithEnv } from "../helpers/agent-procs.ts";
import { agentHome } from "../helpers/agent-env.ts";
import { workerSuite } from "./worker-harness.ts";

const suite = workerSuite();
const model = new ModelServer({ scripts: [], dialects: ALL_DIALECTS });
beforeAll(() => model.start());
afterAll(() => model.close());

describe("a fix round whose session's home is busy", () => {
  it("copies the session into a free home and continues it there", async () => {
    model.setScripts([
      Script.parse({ match: "busy home case", turns: [{ text: "First answer: the plan is X." }], then: "Continued the first conversation." }),
      Script.parse({ match: "blocker case", turns: [{ text: "still thinking", delayMs: 120_000 }] }),
    ]);
    const t = await suite.setup({
      roles: {
        backend: {
          agent: "claude-code", concurrency: 2, timeoutSeconds: 120, stallSeconds: 150,
          env: { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "test-key", DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...agentHome() },
        },
      },
    });
    suite.cleanup(() => processesWithEnv(`CLAUDE_CONFIG_DIR=${t.dir}`).forEach((proc) => quietKill(-proc.pgid)));
    const worker = await t.worker("backend");
    const homes = join(t.dir, ".baton", "agent-homes", "claude-code");

    await t.publish("backend", { taskId: "t1", title: "busy home case", instructions: "Make a plan." });
    const first = await t.msgs.until(() => t.msgs.results("t1")[0], 60_000);
    expect(first).toMatchObject({ outcome: "completed", summary: "First answer: the plan is X.", session: { agent: "claude-code" } });

    // another task takes home 0, where the session is, and keeps it
    await t.publish("backend", { featureId: "f2", taskId: "t2", title: "blocker case" });
    await t.msgs.until(() => processesWithEnv(`CLAUDE_CONFIG_DIR=${join(homes, "0")}`).length > 0, 20_000);

    const before = model.exchanges.length;
    await t.publish("backend", { taskId: "t1", attempt: 2, title: "busy home case", instructions: "The gate failed: fix it.", session: first.session });
    const fix = await t.msgs.until(() => t.msgs.results("t1").find((result) => result.attempt === 2), 60_000);
    expect(fix, JSON.stringify(fix.error)).toMatchObject({ outcome: "completed", summary: "Continued the first conversation.", session: { id: first.session!.id } });
    expect(worker.output()).toContain(`"home":"${join(homes, "1")}","resume":"${first.session!.id}","copiedFrom":"${join(homes, "0")}"`);
    // the fix round's request carries the first conversation, then the fix instructions: continued, not restarted
    const fixRequest = model.exchanges.slice(before).find((exchange) => exchange.scriptIndex === 0);
    expect(fixRequest).toMatchObject({ turnIndex: 1 });
    expect(JSON.stringify(fixRequest!.body)).toContain("First answer: the plan is X.");
    expect(JSON.stringify(fixRequest!.body)).toContain("The gate failed: fix it.");
    expect(t.msgs.results("t2")).toEqual([]); // the blocker really held its home all along
  }, 120_000);
});

function quietKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}
