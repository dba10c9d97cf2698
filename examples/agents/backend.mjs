// Demo "backend" agent: implements the endpoints of the api handoff as request handlers in
// src/todos.js (in-memory store) and routes /todos to them in src/app.js. When a reviewer asks for it
// (a fix task whose instructions carry the review comments), it tags each handler with its OpenAPI
// operationId. As the green/refactor phases of the test-driven "version" task it adds GET /version.
import { AgentError, requireFile, requireHandoff, runAgent, SAMPLE_APP, sleep, writeFile } from "./lib.mjs";

const MODULE = "src/todos.js";
const APP = "src/app.js";

/** Operations this agent knows how to implement, by operationId. */
const IMPLEMENTATIONS = {
  listTodos: `(_req, res) => sendJson(res, 200, [...todos.values()])`,
  createTodo: `async (req, res) => {
      const body = await readJson(req);
      const problem = checkNewTodo(body);
      if (problem) return sendJson(res, 400, { error: problem });
      const todo = { id: nextId++, title: body.title.trim(), done: false, createdAt: new Date().toISOString() };
      todos.set(todo.id, todo);
      sendJson(res, 201, todo, { location: \`/todos/\${todo.id}\` });
    }`,
  getTodo: `(_req, res, { id }) => {
      const todo = /^[1-9][0-9]*$/.test(id) ? todos.get(Number(id)) : undefined;
      if (!todo) return sendJson(res, 404, { error: \`no todo with id \${id}\` });
      sendJson(res, 200, todo);
    }`,
};
const FIELDS = ["id", "title", "done", "createdAt"];

function moduleSource(api, tagged) {
  const routes = api.endpoints.map(({ method, path, operationId }) => ({ method, path, operationId }));
  return `// Todos endpoints, implemented from ${api.spec} by the backend agent. In-memory store, one per app.
import { readJson, sendJson } from "./http.js";

/** Routes from the API contract: method, OpenAPI path template, operation. */
const ROUTES = ${JSON.stringify(routes, null, 2)}.map((r) => ({
  ...r,
  pattern: new RegExp(\`^\${r.path.replace(/\\{(\\w+)\\}/g, "(?<$1>[^/]+)")}$\`),
}));

const TITLE_MAX = ${Number(api.model?.titleMaxLength) || 200};

/** Returns why \`body\` is not a valid NewTodo, or undefined when it is. */
export function checkNewTodo(body) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "body must be a JSON object";
  const extra = Object.keys(body).filter((k) => k !== "title");
  if (extra.length) return \`unknown field(s): \${extra.join(", ")}\`;
  if (typeof body.title !== "string") return "title must be a string";
  const title = body.title.trim();
  if (title.length < 1 || title.length > TITLE_MAX) return \`title must be 1-\${TITLE_MAX} characters\`;
  return undefined;
}

/** Creates the /todos request handler with its own empty store. */
export function createTodosHandler() {
  const todos = new Map();
  let nextId = 1;
  const operations = {
${routes.map((r) => `${tagged ? `    /** @operationId ${r.operationId} (${r.method} ${r.path} in the contract) */\n` : ""}    ${r.operationId}: ${IMPLEMENTATIONS[r.operationId]},`).join("\n")}
  };

  return async function todosHandler(req, res, pathname) {
    const allowed = [];
    for (const r of ROUTES) {
      const m = r.pattern.exec(pathname);
      if (!m) continue;
      if (r.method === req.method) return operations[r.operationId](req, res, m.groups ?? {});
      allowed.push(r.method);
    }
    if (allowed.length) return sendJson(res, 405, { error: \`\${req.method} is not allowed on \${pathname}\` }, { allow: allowed.join(", ") });
    sendJson(res, 404, { error: \`no route for \${pathname}\` });
  };
}
`;
}

/** Adds the import and the route to src/app.js; a no-op when they are already there. */
function wireIntoApp(source) {
  if (source.includes(`from "./todos.js"`)) return source;
  const importAnchor = `import { HttpError, sendJson } from "./http.js";\n`;
  const routeAnchor = `    ["/health", health],\n`;
  if (!source.includes(importAnchor) || !source.includes(routeAnchor)) {
    throw new AgentError(`${APP} does not have the expected route table (looked for ${JSON.stringify(routeAnchor.trim())})`);
  }
  return source
    .replace(importAnchor, `${importAnchor}import { createTodosHandler } from "./todos.js";\n`)
    .replace(routeAnchor, `${routeAnchor}    ["/todos", createTodosHandler()],\n`);
}

/** GET /version: the app's name and version from package.json (the test-driven task). */
function addVersionRoute(source) {
  if (source.includes(`["/version", version]`)) return source;
  const handlerAnchor = `function health(_req, res) {`;
  const routeAnchor = `    ["/health", health],\n`;
  if (!source.includes(handlerAnchor) || !source.includes(routeAnchor)) throw new AgentError(`${APP} does not have the expected health route to add /version next to`);
  const handler = `const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

function version(_req, res) {
  sendJson(res, 200, { name: pkg.name, version: pkg.version });
}

`;
  return source
    .replace(`import { createServer } from "node:http";\n`, `import { readFileSync } from "node:fs";\nimport { createServer } from "node:http";\n`)
    .replace(handlerAnchor, handler + handlerAnchor)
    .replace(routeAnchor, `${routeAnchor}    ["/version", version],\n`);
}

await runAgent("backend", async (task, say) => {
  if (task.taskId === "version" || task.taskId === "version-refactor") {
    const appSource = requireFile(APP, SAMPLE_APP);
    if (task.taskId === "version") {
      say(`green: adding GET /version to ${APP} so that the red phase's tests pass`);
      say(`${writeFile(APP, addVersionRoute(appSource))} ${APP}`);
      return { summary: "GET /version returns the name and version from package.json", handoff: { route: "/version" } };
    }
    say("refactor: the route is a plain function next to /health; nothing to tidy");
    return { summary: "refactor: no change needed", handoff: { route: "/version" } };
  }
  const api = requireHandoff(task, "api", "the endpoints to implement");
  // A fix task for the reviewer's comments: this agent's only known request is operationId tags.
  const tagged = (task.instructions ?? "").includes("@operationId");
  const appSource = requireFile(APP, SAMPLE_APP);
  requireFile(api.spec ?? "docs/openapi.yaml", "written by the api task");
  if (!Array.isArray(api.endpoints) || api.endpoints.length === 0) throw new AgentError("the api handoff lists no endpoints");
  for (const e of api.endpoints) {
    if (!IMPLEMENTATIONS[e.operationId]) throw new AgentError(`cannot implement ${e.method} ${e.path}: unknown operation ${e.operationId}`);
    if (!e.path.startsWith("/todos")) throw new AgentError(`cannot implement ${e.method} ${e.path}: outside /todos`);
  }
  for (const f of api.model?.fields ?? []) {
    if (!FIELDS.includes(f.name)) throw new AgentError(`cannot implement field Todo.${f.name}`);
  }
  for (const e of api.endpoints) say(`implementing ${e.method} ${e.path} -> ${e.operationId}`);
  await sleep(500);
  if (tagged) say("review: tagging each handler with its OpenAPI operationId");
  say(`${writeFile(MODULE, moduleSource(api, tagged))} ${MODULE}`);
  say(`${writeFile(APP, wireIntoApp(appSource))} ${APP} (route /todos)`);
  await sleep(300);
  return {
    summary: `${api.endpoints.length} endpoints in ${MODULE}, routed from ${APP}`,
    handoff: { module: MODULE, baseUrlPath: "/todos", endpoints: api.endpoints.map((e) => `${e.method} ${e.path}`) },
  };
});
