// Demo "api" agent: writes the OpenAPI 3.0 contract for the todos endpoints from the database
// handoff ("documentation before implementation") and hands the endpoint list on.
// With DEMO_API_ASKS=1 in its environment (the role's `env` in the operator's config: `npm run demo -- --plan auto`
// sets it) it first asks a person how long a title may be (a question in the result file), and writes the contract
// with the answer when Baton runs the task again with `answers`.
import { AgentError, requireFile, requireHandoff, runAgent, sleep, writeFile } from "./lib.mjs";

const SPEC = "docs/openapi.yaml";

const ENDPOINTS = [
  { method: "GET", path: "/todos", operationId: "listTodos", summary: "List all todos", responses: [200] },
  { method: "POST", path: "/todos", operationId: "createTodo", summary: "Create a todo", responses: [201, 400] },
  { method: "GET", path: "/todos/{id}", operationId: "getTodo", summary: "Get one todo", responses: [200, 404] },
];

const JSON_TYPES = { integer: "integer", string: "string", boolean: "boolean", timestamp: "string" };

/** The question this agent asks once when DEMO_API_ASKS=1: a design choice the table leaves open. */
const TITLE_QUESTION = {
  question: "How many characters may a todo's title have? (the table allows up to 200)",
  options: ["200", "120", "80"],
  default: "200",
  topic: "design",
  context: "It becomes NewTodo.title.maxLength in docs/openapi.yaml, and the backend checks it.",
};

/** The title limit a person chose, from the answers Baton sent with the task; undefined while unanswered. */
function answeredTitleMax(task) {
  const answer = (task.answers ?? []).find((given) => given.question === TITLE_QUESTION.question)?.answer;
  if (answer === undefined) return undefined;
  const max = Number.parseInt(answer, 10);
  if (!(max >= 1 && max <= 200)) throw new AgentError(`the answer "${answer}" is not a title length from 1 to 200`);
  return max;
}

/** The Todo schema's properties, in YAML, derived from the table's columns (`titleMax` overrides the title's limit). */
function todoProperties(columns, titleMax) {
  return columns
    .map((column) => (column.name === "title" && titleMax ? { ...column, maxLength: titleMax } : column))
    .map((c) => {
      const camel = c.name.replace(/_([a-z])/g, (_m, ch) => ch.toUpperCase());
      const type = JSON_TYPES[c.type];
      if (!type) throw new AgentError(`column ${c.name} has type ${c.type}, which has no JSON mapping`);
      const lines = [`        ${camel}:`, `          type: ${type}`];
      if (c.type === "timestamp") lines.push("          format: date-time");
      if (c.maxLength) lines.push("          minLength: 1", `          maxLength: ${c.maxLength}`);
      if (c.generated) lines.push("          readOnly: true");
      return { camel, yaml: lines.join("\n"), column: c };
    });
}

function spec(props) {
  const title = props.find((p) => p.camel === "title");
  if (!title) throw new AgentError("the todos table has no title column");
  return `openapi: 3.0.3
info:
  title: Todos API
  version: 1.0.0
  description: Todos of the sample app. Written before the implementation; the backend follows it.
paths:
  /todos:
    get:
      operationId: listTodos
      summary: List all todos
      responses:
        "200":
          description: Every todo, oldest first.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: "#/components/schemas/Todo"
    post:
      operationId: createTodo
      summary: Create a todo
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/NewTodo"
      responses:
        "201":
          description: The todo that was created.
          headers:
            Location:
              description: URL of the new todo.
              schema:
                type: string
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Todo"
        "400":
          description: The body is not a valid NewTodo.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Error"
  /todos/{id}:
    get:
      operationId: getTodo
      summary: Get one todo
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: integer
            minimum: 1
      responses:
        "200":
          description: The todo.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Todo"
        "404":
          description: No todo has this id.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Error"
components:
  schemas:
    Todo:
      type: object
      required: [${props.map((p) => p.camel).join(", ")}]
      properties:
${props.map((p) => p.yaml).join("\n")}
    NewTodo:
      type: object
      required: [title]
      additionalProperties: false
      properties:
        title:
          type: string
          minLength: 1
          maxLength: ${title.column.maxLength ?? 200}
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: string
`;
}

await runAgent("api", async (task, say) => {
  const db = requireHandoff(task, "database", "the todos table's columns");
  requireFile(db.migration ?? "migrations/001_create_todos.sql", "written by the database task");
  if (!Array.isArray(db.columns) || db.columns.length === 0) throw new AgentError("the database handoff lists no columns");
  const titleMax = answeredTitleMax(task);
  if (process.env.DEMO_API_ASKS === "1" && titleMax === undefined) {
    say(`asking a person: ${TITLE_QUESTION.question}`);
    return { summary: "asks how long a todo's title may be", question: TITLE_QUESTION };
  }
  if (titleMax !== undefined) say(`a person answered: titles up to ${titleMax} characters`);
  say(`modelling Todo from ${db.columns.length} columns of table ${db.table}`);
  await sleep(400);
  const props = todoProperties(db.columns, titleMax);
  say(`${writeFile(SPEC, spec(props))} ${SPEC}`);
  for (const e of ENDPOINTS) say(`  ${e.method} ${e.path} (${e.operationId})`);
  await sleep(300);
  return {
    summary: `OpenAPI contract for ${ENDPOINTS.length} endpoints in ${SPEC}`,
    handoff: {
      spec: SPEC,
      endpoints: ENDPOINTS,
      model: {
        name: "Todo",
        fields: props.map((p) => ({ name: p.camel, type: JSON_TYPES[p.column.type], readOnly: Boolean(p.column.generated) })),
        titleMaxLength: props.find((p) => p.camel === "title").column.maxLength ?? 200,
      },
    },
  };
});
