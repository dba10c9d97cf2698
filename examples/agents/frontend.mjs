// Demo "frontend" agent: writes a small fetch-based client for the todos API (web/todos.js) and a
// page that uses it (web/index.html), following the api handoff.
import { AgentError, requireFile, requireHandoff, runAgent, sleep, writeFile } from "./lib.mjs";

const CLIENT = "web/todos.js";
const PAGE = "web/index.html";

const FUNCTIONS = {
  listTodos: `/** GET /todos: every todo. */
export async function listTodos(baseUrl = "") {
  return call(\`\${baseUrl}/todos\`);
}`,
  createTodo: `/** POST /todos: creates a todo with \`title\` and returns it. */
export async function createTodo(title, baseUrl = "") {
  return call(\`\${baseUrl}/todos\`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title }),
  });
}`,
  getTodo: `/** GET /todos/{id}: one todo; rejects with status 404 when there is none. */
export async function getTodo(id, baseUrl = "") {
  return call(\`\${baseUrl}/todos/\${encodeURIComponent(id)}\`);
}`,
};

function client(api) {
  return `// Client for the todos API (${api.spec}), written by the frontend agent. Works in browsers and Node 18+.

/** Thrown for any non-2xx answer; \`status\` is the HTTP status, \`message\` the API's error. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

async function call(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body?.error ?? res.statusText);
  return body;
}

${api.endpoints.map((e) => FUNCTIONS[e.operationId]).join("\n\n")}
`;
}

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Todos</title>
  <style>
    body { font: 16px/1.4 system-ui, sans-serif; max-width: 32rem; margin: 2rem auto; }
    .error { color: #b00020; }
  </style>
</head>
<body>
  <h1>Todos</h1>
  <form id="new">
    <input name="title" required maxlength="200" placeholder="What needs doing?">
    <button>Add</button>
  </form>
  <p class="error" id="error" hidden></p>
  <ul id="todos"></ul>
  <script type="module">
    import { createTodo, listTodos } from "./todos.js";

    const list = document.getElementById("todos");
    const error = document.getElementById("error");
    const show = (e) => { error.hidden = !e; error.textContent = e ? e.message : ""; };

    async function refresh() {
      try {
        list.replaceChildren(...(await listTodos()).map((t) => {
          const li = document.createElement("li");
          li.textContent = t.title;
          return li;
        }));
        show(null);
      } catch (e) { show(e); }
    }

    document.getElementById("new").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = ev.currentTarget;
      try {
        await createTodo(form.title.value);
        form.reset();
        await refresh();
      } catch (e) { show(e); }
    });

    refresh();
  </script>
</body>
</html>
`;

await runAgent("frontend", async (task, say) => {
  const api = requireHandoff(task, "api", "the endpoints to call");
  requireFile(api.spec ?? "docs/openapi.yaml", "written by the api task");
  const missing = ["listTodos", "createTodo"].filter((op) => !api.endpoints?.some((e) => e.operationId === op));
  if (missing.length) throw new AgentError(`the api handoff lacks ${missing.join(", ")}; the page needs them`);
  const unknown = api.endpoints.filter((e) => !FUNCTIONS[e.operationId]);
  if (unknown.length) throw new AgentError(`no client function for ${unknown.map((e) => e.operationId).join(", ")}`);
  say(`client functions: ${api.endpoints.map((e) => e.operationId).join(", ")}`);
  await sleep(500);
  say(`${writeFile(CLIENT, client(api))} ${CLIENT}`);
  say(`${writeFile(PAGE, page)} ${PAGE}`);
  await sleep(300);
  return {
    summary: `todos client ${CLIENT} and page ${PAGE}`,
    handoff: { client: CLIENT, page: PAGE, exports: api.endpoints.map((e) => e.operationId) },
  };
});
