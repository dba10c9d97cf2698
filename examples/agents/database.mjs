// Demo "database" agent: writes the SQL migration for the todos table and hands its columns on. When the task
// declares it produces docs/database/README.md (the api-first template's schema step does), it documents the table there.
import { runAgent, sleep, writeFile } from "./lib.mjs";

const MIGRATION = "migrations/001_create_todos.sql";

/** The table, described once: the SQL below and the handoff both come from it. */
const COLUMNS = [
  { name: "id", sql: "INTEGER PRIMARY KEY", type: "integer", nullable: false, generated: true },
  { name: "title", sql: "TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200)", type: "string", nullable: false, maxLength: 200 },
  { name: "done", sql: "BOOLEAN NOT NULL DEFAULT FALSE", type: "boolean", nullable: false },
  { name: "created_at", sql: "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP", type: "timestamp", nullable: false, generated: true },
];

const sql = `-- 001_create_todos: the todos table behind GET/POST /todos.
-- SQLite dialect: id is the rowid alias, so each insert gets the next id automatically.

CREATE TABLE IF NOT EXISTS todos (
${COLUMNS.map((c) => `  ${c.name} ${c.sql}`).join(",\n")}
);

CREATE INDEX IF NOT EXISTS todos_created_at_idx ON todos (created_at);
`;

const DOC = "docs/database/README.md";

const doc = `# Database

## todos

Created by \`${MIGRATION}\` (SQLite dialect). One row per todo; the API exposes every column (docs/openapi.yaml).

| column | type | null | notes |
|---|---|---|---|
${COLUMNS.map((c) => `| ${c.name} | ${c.type} | ${c.nullable ? "yes" : "no"} | ${c.sql.replace(/\|/g, "\\|")} |`).join("\n")}

Index \`todos_created_at_idx\` on \`created_at\`: the list is read oldest first.
`;

await runAgent("database", async (task, say) => {
  say("designing the todos table");
  await sleep(400);
  say(`${writeFile(MIGRATION, sql)} ${MIGRATION}`);
  // Baton checks a declared artifact before its readers start: write it only when the task declares it
  if (task.produces?.includes(DOC)) say(`${writeFile(DOC, doc)} ${DOC}`);
  await sleep(300);
  return {
    summary: `todos table (${COLUMNS.length} columns) in ${MIGRATION}`,
    handoff: {
      migration: MIGRATION,
      ...(task.produces?.includes(DOC) ? { docs: DOC } : {}),
      table: "todos",
      columns: COLUMNS.map(({ sql: _s, ...c }) => c),
    },
  };
});
