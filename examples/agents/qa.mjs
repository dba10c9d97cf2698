// Demo "qa" agent: for a task downstream of the backend, writes node:test tests for the todos API
// (and the web client, when there is one); then runs the workspace's real test suite and exits
// with its exit code, so a failing suite fails the task.
import { spawnSync } from "node:child_process";
import { AgentError, requireFile, runAgent, SAMPLE_APP, sleep, writeFile } from "./lib.mjs";

const TESTS = "test/todos.test.js";

function testSource(backend, frontend) {
  const clientTests = frontend
    ? `
test("the web client lists and creates todos through the API", async (t) => {
  const base = await start(t);
  const { createTodo, listTodos, getTodo } = await import("../${frontend.client}");
  assert.deepEqual(await listTodos(base), []);
  const made = await createTodo("Write docs", base);
  assert.equal(made.title, "Write docs");
  assert.deepEqual(await listTodos(base), [made]);
  if (getTodo) await assert.rejects(getTodo(12345, base), (e) => e.status === 404);
});
`
    : "";
  return `// Tests for the todos API (${backend.endpoints.join(", ")}), written by the qa agent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createApp } from "../src/app.js";

/** Starts a fresh app on a free port; closed when the test ends. */
async function start(t) {
  const server = createApp().listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => new Promise((r) => server.close(r)));
  return \`http://127.0.0.1:\${server.address().port}\`;
}

const post = (base, body) =>
  fetch(\`\${base}/todos\`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("GET /todos starts empty", async (t) => {
  const base = await start(t);
  const res = await fetch(\`\${base}/todos\`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), []);
});

test("POST /todos creates a todo that GET /todos and GET /todos/{id} return", async (t) => {
  const base = await start(t);
  const res = await post(base, { title: "Buy milk" });
  assert.equal(res.status, 201);
  const todo = await res.json();
  assert.equal(todo.title, "Buy milk");
  assert.equal(todo.done, false);
  assert.equal(typeof todo.id, "number");
  assert.ok(!Number.isNaN(Date.parse(todo.createdAt)), "createdAt is a timestamp");
  assert.equal(res.headers.get("location"), \`/todos/\${todo.id}\`);

  assert.deepEqual(await (await fetch(\`\${base}/todos\`)).json(), [todo]);
  const one = await fetch(\`\${base}/todos/\${todo.id}\`);
  assert.equal(one.status, 200);
  assert.deepEqual(await one.json(), todo);
});

test("POST /todos rejects a missing or empty title with 400", async (t) => {
  const base = await start(t);
  for (const body of [{}, { title: "" }, { title: 42 }, { title: "x", extra: true }]) {
    const res = await post(base, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(typeof (await res.json()).error, "string");
  }
  const bad = await fetch(\`\${base}/todos\`, { method: "POST", body: "{not json" });
  assert.equal(bad.status, 400);
  assert.deepEqual(await (await fetch(\`\${base}/todos\`)).json(), [], "nothing was stored");
});

test("GET /todos/{id} answers 404 for a todo that does not exist", async (t) => {
  const base = await start(t);
  for (const id of ["999", "abc"]) {
    const res = await fetch(\`\${base}/todos/\${id}\`);
    assert.equal(res.status, 404);
    assert.match((await res.json()).error, /no todo/);
  }
});
${clientTests}`;
}

/** The red phase of the test-driven "version" task: tests for GET /version, which does not exist yet. */
const VERSION_TESTS = "test/version.test.js";
const versionTests = `// Tests for GET /version, written first (red phase) by the qa agent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createApp } from "../src/app.js";

test("GET /version answers the app's name and version from package.json", async (t) => {
  const server = createApp().listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => new Promise((r) => server.close(r)));
  const res = await fetch(\`http://127.0.0.1:\${server.address().port}/version\`);
  assert.equal(res.status, 200);
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.deepEqual(await res.json(), { name: pkg.name, version: pkg.version });
});
`;

await runAgent("qa", async (task, say) => {
  if (task.taskId === "version-red") {
    requireFile("package.json", SAMPLE_APP);
    say(`red: writing ${VERSION_TESTS} for GET /version (not implemented yet: the tests must fail)`);
    say(`${writeFile(VERSION_TESTS, versionTests)} ${VERSION_TESTS}`);
    return { summary: `${VERSION_TESTS}: GET /version answers name and version`, handoff: { tests: [VERSION_TESTS] } };
  }
  const backend = task.handoffs.find((h) => h.role === "backend")?.handoff;
  const frontend = task.handoffs.find((h) => h.role === "frontend")?.handoff;
  if (backend) {
    requireFile(backend.module ?? "src/todos.js", "written by the backend task");
    if (frontend) requireFile(frontend.client ?? "web/todos.js", "written by the frontend task");
    say(`writing tests for ${backend.endpoints.join(", ")}${frontend ? " and the web client" : ""}`);
    await sleep(400);
    say(`${writeFile(TESTS, testSource(backend, frontend))} ${TESTS}`);
  } else if (task.taskId === "tests") {
    throw new AgentError("the tests task needs the backend handoff (which endpoints to test); handoffs received: " +
      (task.handoffs.map((h) => `${h.taskId}(${h.role})`).join(", ") || "none"));
  } else {
    say("no backend handoff: running the existing suite only");
  }
  requireFile("package.json", SAMPLE_APP);

  say("running npm test");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const run = spawnSync(npm, ["test"], { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, NODE_TEST_CONTEXT: undefined } });
  if (run.error) throw new AgentError(`cannot run npm test: ${run.error.message}`);
  const code = run.status ?? 1;
  if (code !== 0) {
    console.error(`[qa] npm test failed (exit ${code}${run.signal ? `, signal ${run.signal}` : ""})`);
    return code;
  }
  return {
    summary: `npm test passed${backend ? `; ${TESTS} covers ${backend.endpoints.length} endpoints` : ""}`,
    handoff: { passed: true, command: "npm test", tests: backend ? [TESTS] : [] },
  };
});
