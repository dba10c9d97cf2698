// The dashboard (`baton ui`) in a real headless Chromium against a real stack (nats-server, `baton coordinator`, exec
// workers): a feature submitted during the test appears in the list; its graph turns tasks green as they complete,
// without a reload; Approve on a plan awaiting approval starts it; an answer typed into a question resumes the task.
// And the door: no token, no non-loopback bind; with a token, no request without it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "puppeteer-core";
import { launchBrowser, startUi, type TestBrowser, type UiProc } from "../helpers/dashboard.ts";
import { baton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";
import { agentRuns, history, ofKind, release, stackFiles, submit } from "../integration/planning-harness.ts";

const stack = useStack({ tag: "dash", ...stackFiles, workers: [["backend", "backend-1"], ["qa", "qa-1"]] });

let ui: UiProc;
let chrome: TestBrowser;
let page: Page;

beforeAll(async () => {
  ui = await startUi(stack.cfg, stack.env);
  chrome = await launchBrowser();
  page = await chrome.browser.newPage();
  page.setDefaultTimeout(45_000);
}, 90_000);

afterAll(async () => {
  await chrome?.close();
  await ui?.proc.kill();
});

/** What the page's scripts see (the type check runs without the DOM's types). */
interface BrowserGlobals {
  getComputedStyle(element: unknown): { stroke: string };
  notReloaded?: boolean;
}

/** The state the page shows for a task of the feature's graph. */
const nodeState = (taskId: string) => page.$eval(`#dag g[data-task-id="${taskId}"]`, (node) => node.getAttribute("data-state"));
const waitNode = (taskId: string, state: string) => page.waitForSelector(`#dag g[data-task-id="${taskId}"][data-state="${state}"]`);

describe("the dashboard in a browser", () => {
  it("lists a feature submitted while it is open, and its graph turns each task green as it completes, without a reload", async () => {
    await page.goto(ui.url);
    await page.waitForSelector("#features tbody");
    await page.waitForSelector('#live[data-live="live"]');
    // A page that reloads loses this.
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

    await submit(stack, {
      id: "dash1", title: "Shown live",
      tasks: [
        { id: "a", role: "backend", title: "First", instructions: JSON.stringify({ holdUntil: "dash1-a" }) },
        { id: "b", role: "backend", title: "Second", dependsOn: ["a"] },
      ],
    });
    const row = await page.waitForSelector('tr[data-feature-id="dash1"]');
    expect(await row!.evaluate((node) => node.textContent)).toContain("Shown live");

    await row!.click();
    await page.waitForSelector('#dag g[data-task-id="a"]');
    await waitNode("a", "running");
    expect(await nodeState("b")).toBe("waiting");

    release(stack, "dash1-a");
    await waitNode("a", "completed");
    await waitNode("b", "completed");
    await page.waitForSelector('#feature-head [data-state="completed"]');
    const stroke = await page.$eval('#dag g[data-task-id="b"] .node-box', (box) => (globalThis as unknown as BrowserGlobals).getComputedStyle(box).stroke);
    expect(stroke).toBe("rgb(5, 150, 105)"); // green
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).notReloaded)).toBe(true);
    // the history panel holds the events as they came
    const kinds = await page.$$eval("#events li", (items) => items.map((item) => item.getAttribute("data-kind")));
    expect(kinds).toContain("feature.completed");
    expect(kinds).toContain("task.completed");
  }, 120_000);

  it("shows the plan awaiting approval; Approve starts it, recorded as approved by the person acting", async () => {
    await submit(stack, {
      id: "dash2", title: "Needs a yes", approval: "required",
      tasks: [{ id: "a", role: "backend", title: "Build it" }, { id: "b", role: "qa", title: "Test it", dependsOn: ["a"] }],
    });
    await page.goto(`${ui.url}#/f/dash2`);
    await page.$eval("#actor", (input) => {
      (input as unknown as { value: string }).value = "dana";
      input.dispatchEvent(new Event("change"));
    });
    const approve = await page.waitForSelector('#plan:not([hidden]) [data-action="approve"]');
    expect(await page.$eval("#plan", (plan) => plan.textContent)).toContain("Test it");
    expect(await nodeState("a")).toBe("waiting");

    await approve!.click();
    await waitNode("a", "completed");
    await waitNode("b", "completed");
    await page.waitForSelector("#plan", { hidden: true });
    const approved = ofKind(await history(stack, "dash2"), "plan.approved");
    expect(approved).toEqual([expect.objectContaining({ by: "dana" })]);
  }, 120_000);

  it("shows an open question with an answer box; the typed answer resumes the task with it", async () => {
    await submit(stack, {
      id: "dash3", title: "Asks a person",
      tasks: [
        { id: "a", role: "backend", title: "List endpoint", instructions: JSON.stringify({ ask: { question: "Which page size?", topic: "design" } }) },
        { id: "b", role: "qa", title: "Check it", dependsOn: ["a"] },
      ],
    });
    await page.goto(`${ui.url}#/f/dash3`);
    const box = await page.waitForSelector('#questions:not([hidden]) [data-question-id="q1"] textarea');
    expect(await page.$eval('[data-question-id="q1"]', (card) => card.textContent)).toContain("Which page size?");
    await waitNode("a", "asking");

    await box!.type("50 per page");
    await page.click('[data-question-id="q1"] [data-action="answer"]');
    await waitNode("a", "completed");
    await waitNode("b", "completed");
    const runs = agentRuns(stack, "dash3").filter((run) => run.taskId === "a" && run.event === "start");
    expect(runs.map((run) => run.answers.map((given) => given.answer))).toEqual([[], ["50 per page"]]);
    expect(ofKind(await history(stack, "dash3"), "question.answered")).toEqual([expect.objectContaining({ answer: "50 per page", by: "dana", via: "person" })]);
  }, 120_000);

  it("refuses bad input with the specific problem", async () => {
    const post = (path: string, body: string, type = "application/json") => fetch(new URL(path, ui.url), { method: "POST", headers: { "Content-Type": type }, body });
    const badVerb = await post("api/features/dash1/control", JSON.stringify({ verb: "explode" }));
    expect(badVerb.status).toBe(400);
    expect(((await badVerb.json()) as { error: { message: string } }).error.message).toMatch(/^control: verb: /);
    const noReason = await post("api/features/dash1/control", JSON.stringify({ verb: "reject" }));
    expect(((await noReason.json()) as { error: { message: string } }).error.message).toBe("control: reason: reject needs a reason (it is recorded with the rejection)");
    expect((await post("api/features/dash1/answer", "questionId=q1", "application/x-www-form-urlencoded")).status).toBe(415);
    expect((await post("api/features/no.such/answer", JSON.stringify({ questionId: "q1", answer: "x" }))).status).toBe(400);
    expect((await fetch(new URL("api/features/never-submitted", ui.url))).status).toBe(404);
  });
});

describe("who may use it", () => {
  it("will not serve a non-loopback address without a token", async () => {
    const refused = baton(["ui", "--config", stack.cfg, "--host", "0.0.0.0", "--port", "0"], stack.env);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/refusing to serve the dashboard on 0\.0\.0\.0 without a token/);
    expect(refused.output()).toMatch(/BATON_UI_TOKEN/);
  });

  it("bound elsewhere with a token: 401 without it; the Bearer header or a ?token= visit (then its cookie) get in", async () => {
    const token = "t0ken-for-the-dashboard-test";
    const guarded = await startUi(stack.cfg, { ...stack.env, BATON_UI_TOKEN: token }, ["--host", "0.0.0.0"]);
    try {
      const api = new URL("api/features", guarded.url);
      expect((await fetch(api)).status).toBe(401);
      expect((await fetch(api, { headers: { Authorization: "Bearer not-the-token-at-all" } })).status).toBe(401);
      expect((await fetch(api, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(guarded.url)).status).toBe(401);

      const visitor = await chrome.browser.createBrowserContext();
      try {
        const tab = await visitor.newPage();
        await tab.goto(`${guarded.url}?token=${token}`);
        expect(tab.url()).toBe(guarded.url); // the token left the address bar
        await tab.waitForSelector('tr[data-feature-id="dash1"]');
        const cookies = await visitor.cookies();
        expect(cookies.find((cookie) => cookie.name === "baton_ui_token")).toMatchObject({ httpOnly: true, sameSite: "Strict" });
      } finally {
        await visitor.close();
      }
    } finally {
      await guarded.proc.kill();
    }
  }, 60_000);
});
